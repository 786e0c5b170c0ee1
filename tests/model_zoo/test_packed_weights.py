"""Packed weights files: bit layout, exact round trip of the quantized model, refusals."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary.layers import QuantDense
from keras_binary.precision import is_binary_variable
from model_zoo.packed_weights import (
    WeightsFileError,
    load_packed_weights,
    pack_model_weights,
    read_packed_weights,
    save_packed_weights,
)


def _model(kernel_quantizer="ste_sign", units=5, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((11,))
    x = QuantDense(units, kernel_quantizer=kernel_quantizer, kernel_constraint="weight_clip",
                   use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = QuantDense(3, input_quantizer="ste_sign", kernel_quantizer=kernel_quantizer,
                   kernel_constraint="weight_clip")(x)
    return keras.Model(inputs, x)


def _randomize(model, seed=1):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.uniform(0.1, 0.9, variable.shape).astype("float32")
                        * rng.choice([-1.0, 1.0], variable.shape))


def test_binary_kernel_bits_follow_the_documented_layout():
    model = _model()
    kernel = np.array([[0.5, -0.2, 0.3, -0.1, 0.0]] + [[1.0] * 5] * 10, "float32")
    model.weights[0].assign(kernel)
    arrays = pack_model_weights(model)
    # bit 1 = -1, big-endian within each byte over the C-order flattened kernel
    assert arrays["v0.bits"][0] == 0b01010000
    np.testing.assert_array_equal(arrays["v0.bits"][1:], 0)
    np.testing.assert_allclose(arrays["v0.scale"], np.abs(kernel).mean(axis=0))
    assert arrays["v0.bits"].nbytes == int(np.ceil(kernel.size / 8))


@pytest.mark.parametrize("quantizer", ["ste_sign", "magnitude_aware_sign", "xnor_weight_scale"])
def test_round_trip_reproduces_the_model_outputs(tmp_path, quantizer):
    model = _model(quantizer)
    _randomize(model)
    x = np.random.default_rng(2).normal(size=(6, 11)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    path = tmp_path / "w.npz"
    save_packed_weights(model, path, model_name="tiny")
    fresh = _model(quantizer, seed=5)
    load_packed_weights(fresh, path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fresh(x, training=False)), expected,
                               rtol=1e-5, atol=1e-5)
    meta, _ = read_packed_weights(path)
    kinds = [entry["kind"] for entry in meta["variables"]]
    assert kinds == ["binary" if is_binary_variable(v) else "float" for v in model.weights]
    assert meta["model"] == "tiny"


def test_binary_kernels_are_stored_at_one_bit(tmp_path):
    model = _model(units=512)
    path = tmp_path / "w.npz"
    save_packed_weights(model, path)
    float_bytes = sum(int(np.prod(v.shape)) * 4 for v in model.weights)
    binary_bits = sum(int(np.prod(v.shape)) for v in model.weights if is_binary_variable(v))
    assert binary_bits / 8 < path.stat().st_size < float_bytes / 4


def test_another_architecture_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    save_packed_weights(_model(units=5), path)
    with pytest.raises(WeightsFileError, match="shape"):
        load_packed_weights(_model(units=6), path)
    other = keras.Sequential([keras.Input((11,)), keras.layers.Dense(3)])
    with pytest.raises(WeightsFileError, match="holds 7 variables"):
        load_packed_weights(other, path)


def test_corrupted_file_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    save_packed_weights(_model(), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsFileError, match="not a readable packed weights file"):
        load_packed_weights(_model(), path)


def test_other_npz_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(WeightsFileError, match="not a readable packed weights file"):
        read_packed_weights(path)


def test_existing_file_is_not_overwritten_unless_asked(tmp_path):
    path = tmp_path / "w.npz"
    path.write_bytes(b"a user's file")
    model = _model()
    with pytest.raises(FileExistsError, match=r"w\.npz exists; pass overwrite=True"):
        save_packed_weights(model, path)
    assert path.read_bytes() == b"a user's file"
    size = save_packed_weights(model, path, overwrite=True)
    assert size == path.stat().st_size
    load_packed_weights(_model(), path)


@pytest.mark.parametrize("meta", [
    "a string",
    {"format": "keras_binary.packed_weights", "version": 1, "model": "m"},  # no variables
    {"format": "keras_binary.packed_weights", "version": 1, "model": "m",
     "variables": [{"path": "w", "shape": [2]}]},  # no kind
])
def test_malformed_header_raises_weights_file_error(tmp_path, meta):
    import json

    path = tmp_path / "bad.npz"
    np.savez(path, v0=np.zeros(2, np.float32),
             __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    with pytest.raises(WeightsFileError, match="export it again"):
        read_packed_weights(path)
