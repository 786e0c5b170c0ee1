"""The LAB MLP reproduction script: a tiny run on real MNIST trains, saves and exports."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from model_zoo import train_lab_mlp
from model_zoo.models import lab_mlp
from model_zoo.packed_weights import load_packed_weights, save_packed_weights


def test_bad_variant_is_refused():
    with pytest.raises(ValueError, match="variant must be one of"):
        train_lab_mlp.lab_mlp("xnor")


@pytest.mark.parametrize("variant", ["lab", "lab2"])
def test_tiny_run_saves_a_model_whose_weights_load_into_the_zoo_model(variant, tmp_path):
    result = train_lab_mlp.run(variant, epochs=1, limit=300, hidden_units=16, save_dir=tmp_path)
    assert result["variant"] == variant and result["train_examples"] == 300
    assert 0.0 <= result["test_error_percent"] <= 100.0

    import keras

    trained = keras.models.load_model(tmp_path / f"lab_mlp_{variant}.keras")
    zoo_model = lab_mlp(hidden_units=16, binarize_activations=variant == "lab2")
    save_packed_weights(trained, tmp_path / "packed.npz", model_name="lab_mlp")
    load_packed_weights(zoo_model, tmp_path / "packed.npz")
    images = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(zoo_model(images, training=False)),
        keras.ops.convert_to_numpy(trained(images, training=False)), rtol=1e-5, atol=1e-5,
    )


def test_a_saved_model_is_not_overwritten_unless_asked(tmp_path):
    saved = tmp_path / "lab_mlp_lab.keras"
    saved.write_bytes(b"an earlier run")
    with pytest.raises(FileExistsError, match=r"lab_mlp_lab\.keras exists.*--overwrite"):
        train_lab_mlp.run("lab", epochs=1, limit=100, hidden_units=8, save_dir=str(tmp_path))
    assert saved.read_bytes() == b"an earlier run"
    train_lab_mlp.run("lab", epochs=1, limit=100, hidden_units=8, save_dir=str(tmp_path),
                      overwrite=True)
    assert saved.read_bytes() != b"an earlier run"


def test_the_paper_protocol_reports_the_test_error_at_the_best_validation_epoch(tmp_path):
    result = train_lab_mlp.run("lab", epochs=2, limit=400, hidden_units=16, validation=100,
                               init="paper")
    assert result["train_examples"] == 300 and result["validation_examples"] == 100
    assert result["best_validation_epoch"] in (1, 2)
    assert 0.0 <= result["test_error_at_best_validation_percent"] <= 100.0
    with pytest.raises(ValueError, match="validation must be in"):
        train_lab_mlp.run("lab", epochs=1, limit=100, hidden_units=8, validation=100)
    with pytest.raises(ValueError, match="init must be one of"):
        train_lab_mlp.run("lab", epochs=1, limit=100, hidden_units=8, init="he")


def test_paper_init_draws_binary_kernels_from_the_papers_range():
    model = train_lab_mlp.lab_mlp("lab", hidden_units=64)
    train_lab_mlp.paper_init(model, seed=3)
    for layer in model.layers:
        if hasattr(layer, "kernel_quantizer"):
            kernel = keras.ops.convert_to_numpy(layer.kernel)
            limit = np.sqrt(1.5 / sum(kernel.shape))
            assert np.abs(kernel).max() <= limit
            assert np.abs(kernel).max() > 0.9 * limit  # uniform over the whole range


def test_lat_variant_learns_ternary_kernels_on_real_mnist(tmp_path):
    result = train_lab_mlp.run("lat", epochs=2, limit=1000, hidden_units=32, save_dir=tmp_path)
    assert result["test_error_percent"] < 60.0  # chance is 90%
    model = keras.models.load_model(tmp_path / "lab_mlp_lat.keras")
    for layer in model.layers:
        if hasattr(layer, "kernel_quantizer"):
            codes = np.asarray(keras.ops.convert_to_numpy(layer.kernel_quantizer(layer.kernel)))
            alpha = float(keras.ops.convert_to_numpy(layer.kernel_quantizer.alpha))
            assert set(np.unique(np.round(codes / alpha, 5))) == {-1.0, 0.0, 1.0}


def test_bop_hyperparameters_reach_the_bop_optimizer():
    optimizer = train_lab_mlp.make_optimizer("bop", steps=100, bop_threshold=3e-7, bop_gamma=2e-2)
    ((_, bop),) = optimizer.get_config()["predicate_optimizer_pairs"]
    assert bop["class_name"] == "Bop"
    assert bop["config"]["threshold"] == pytest.approx(3e-7)
    assert bop["config"]["gamma"] == pytest.approx(2e-2)
    assert isinstance(optimizer.default_optimizer, keras.optimizers.Adam)
