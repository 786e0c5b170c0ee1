"""SparseSquaredHinge against a numpy reference."""

import keras
import numpy as np

from model_zoo.losses import SparseSquaredHinge


def test_matches_numpy_squared_hinge_on_pm1_targets():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 4)).astype("float32")
    labels = np.array([0, 3, 1, 1, 2])
    targets = -np.ones((5, 4))
    targets[np.arange(5), labels] = 1.0
    expected = np.mean(np.mean(np.maximum(0.0, 1.0 - targets * scores) ** 2, axis=-1))
    actual = float(keras.ops.convert_to_numpy(SparseSquaredHinge()(labels, scores)))
    np.testing.assert_allclose(actual, expected, rtol=1e-6)


def test_config_round_trip():
    loss = SparseSquaredHinge(name="sq")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, SparseSquaredHinge) and restored.name == "sq"


def test_compiled_model_with_the_loss_reloads_from_a_keras_file(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=SparseSquaredHinge())
    path = tmp_path / "m.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored.loss, SparseSquaredHinge)
