"""Weights registry: sha256 checked before loading, names and paths resolved, clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from model_zoo import weights_catalog, weights_registry
from model_zoo.models import get_model
from model_zoo.packed_weights import save_packed_weights
from model_zoo.weights_registry import (
    PretrainedWeights,
    WeightsChecksumError,
    load_weights,
    sha256_of,
)


@pytest.fixture()
def shipped(tmp_path, monkeypatch):
    """A registered file for a small MLP in a temporary weights dir."""
    monkeypatch.setattr(weights_registry, "WEIGHTS_DIR", tmp_path)
    registry = {}  # one empty registry for the catalog and the loader that re-exports it
    monkeypatch.setattr(weights_catalog, "REGISTRY", registry)
    monkeypatch.setattr(weights_registry, "REGISTRY", registry)
    model = get_model("binarynet_mlp_2048", input_shape=(4, 4, 1))
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.uniform(-1, 1, variable.shape).astype("float32"))
    path = tmp_path / "mlp.npz"
    save_packed_weights(model, path)
    weights_registry.register(PretrainedWeights(
        "binarynet_mlp_2048", "toy", "mlp.npz", sha256_of(path), 0.5, "test"))
    return model, path


def _outputs(model):
    x = np.linspace(-1, 1, 32, dtype="float32").reshape(2, 4, 4, 1)
    return keras.ops.convert_to_numpy(model(x, training=False))


def test_registered_name_loads_after_checksum(shipped):
    model, _ = shipped
    loaded = get_model("binarynet_mlp_2048", input_shape=(4, 4, 1), weights="toy")
    np.testing.assert_allclose(_outputs(loaded), _outputs(model), rtol=1e-5, atol=1e-5)


def test_checksum_mismatch_is_refused_before_loading(shipped):
    _, path = shipped
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    fresh = get_model("binarynet_mlp_2048", input_shape=(4, 4, 1))
    before = [keras.ops.convert_to_numpy(v) for v in fresh.weights]
    with pytest.raises(WeightsChecksumError, match="sha256"):
        load_weights(fresh, "toy", model_name="binarynet_mlp_2048")
    for variable, value in zip(fresh.weights, before, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)


def test_missing_shipped_file_is_reported(shipped):
    _, path = shipped
    path.unlink()
    with pytest.raises(FileNotFoundError, match="missing from the installed package"):
        get_model("binarynet_mlp_2048", input_shape=(4, 4, 1), weights="toy")


def test_user_path_loads_packed_and_keras_weights(shipped, tmp_path):
    model, path = shipped
    loaded = get_model("binarynet_mlp_2048", input_shape=(4, 4, 1), weights=str(path))
    np.testing.assert_allclose(_outputs(loaded), _outputs(model), rtol=1e-5, atol=1e-5)
    h5 = tmp_path / "mlp.weights.h5"
    model.save_weights(h5)
    loaded = get_model("binarynet_mlp_2048", input_shape=(4, 4, 1), weights=h5)
    np.testing.assert_allclose(_outputs(loaded), _outputs(model), rtol=1e-6)


def test_unknown_name_and_bad_types(shipped, tmp_path):
    with pytest.raises(ValueError, match="available: 'toy'"):
        get_model("binarynet_mlp_2048", input_shape=(4, 4, 1), weights="cifar10")
    with pytest.raises(TypeError, match="weights must be"):
        get_model("binarynet_mlp_2048", input_shape=(4, 4, 1), weights=3)
    odd = tmp_path / "w.txt"
    odd.write_text("x")
    with pytest.raises(ValueError, match="expected a packed .npz"):
        get_model("binarynet_mlp_2048", input_shape=(4, 4, 1), weights=odd)
