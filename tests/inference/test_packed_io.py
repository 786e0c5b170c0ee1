"""export_packed/load_packed: 1 bit per binary weight, checksums, shape checks, no overwrite."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary import inference
from keras_binary.inference import BinaryConv2DInference, BinaryDenseInference, PackedFileError
from tests.inference import models


def _binary_layers(fast):
    return [layer for layer in fast.layers
            if isinstance(layer, (BinaryConv2DInference, BinaryDenseInference))]


def test_packed_kernels_are_32x_smaller_than_float_kernels():
    inputs = keras.Input((4, 4, 64))
    x = models.QuantConv2D(96, 3, padding="same", pad_values=1.0, **models.BIN)(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, models.QuantDense(10, **models.BIN)(x))
    fast = inference.convert(model)
    layers = _binary_layers(fast)
    assert len(layers) == 2
    for layer in layers:
        float_bytes = int(np.prod(model.get_layer(layer.name).kernel.shape)) * 4
        packed_bytes = int(np.prod(layer.packed_kernel.shape)) * 4
        assert float_bytes == 32 * packed_bytes


def test_padded_conv_channels_cost_under_one_word_per_row(convnet):
    model, fast, *_ = convnet
    for layer in [layer for layer in fast.layers if isinstance(layer, BinaryConv2DInference)]:
        kernel = model.get_layer(layer.name).kernel.shape
        rows = int(np.prod(layer.packed_kernel.shape[:-1]))  # one row per output and position
        bits = int(np.prod(kernel))
        assert bits / 32 <= int(np.prod(layer.packed_kernel.shape)) < bits / 32 + rows


def test_export_load_round_trip_and_file_size(convnet, tmp_path):
    model, fast, x, _, got = convnet
    path = tmp_path / "convnet.npz"
    size = inference.export_packed(fast, path)
    assert size == path.stat().st_size
    header, values = inference.read_packed(path)
    # The arrays plus a few hundred bytes of npz and JSON header per array.
    assert size < sum(value.nbytes for value in values) + 400 * (len(values) + 1)
    kernels = [e for e in header["weights"] if e["path"].endswith("packed_kernel")]
    assert len(kernels) == 5 and all(e["dtype"] == "int32" for e in kernels)
    clone = inference.convert(model)
    for variable in clone.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    inference.load_packed(clone, path)
    np.testing.assert_array_equal(clone.predict_on_batch(x), got)


def test_existing_file_is_kept_unless_overwrite(convnet, tmp_path):
    fast = convnet[1]
    path = tmp_path / "model.npz"
    path.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        inference.export_packed(fast, path)
    assert path.read_bytes() == b"keep me"
    inference.export_packed(fast, path, overwrite=True)
    assert inference.read_packed(path)[0]["model"] == fast.name


def test_mismatched_shapes_and_corruption_are_reported(convnet, tmp_path):
    fast = convnet[1]
    path = tmp_path / "model.npz"
    inference.export_packed(fast, path)
    inputs = keras.Input((45,))
    other = inference.convert(keras.Model(inputs, models.QuantDense(33, **models.BIN)(inputs)))
    with pytest.raises(PackedFileError, match="another architecture"):
        inference.load_packed(other, path)
    wider = inference.convert(keras.Model(inputs, models.QuantDense(40, **models.BIN)(inputs)))
    inference.export_packed(wider, tmp_path / "wider.npz")
    narrow = inference.convert(keras.Model(inputs, models.QuantDense(33, **models.BIN)(inputs)))
    with pytest.raises(PackedFileError, match="int32\\[40, 2\\] does not fit .*packed_kernel"):
        inference.load_packed(narrow, tmp_path / "wider.npz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(PackedFileError, match="corrupted|not a readable"):
        inference.load_packed(fast, path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(PackedFileError, match="not a readable"):
        inference.read_packed(tmp_path / "junk.npz")


def test_compare_speed_reports_agreement(convnet):
    model, fast, x, *_ = convnet
    stats = inference.compare_speed(model, x, converted=fast, repeats=2, warmup=1)
    assert stats["agree"] and stats["argmax_agreement"] == 1.0
    assert stats["float_ms"] > 0 and stats["binary_ms"] > 0
    assert stats["speedup"] == pytest.approx(stats["float_ms"] / stats["binary_ms"])
    with pytest.raises(ValueError, match="repeats"):
        inference.compare_speed(model, x, converted=fast, repeats=0)


def test_bad_inputs_to_inference_layers():
    layer = inference.BinaryDenseInference(4, input_bits=40)
    with pytest.raises(ValueError, match="expected 40 features"):
        layer(np.ones((2, 39), "float32"))
    with pytest.raises(ValueError, match="expected 2 packed words"):
        layer(np.ones((2, 3), "int32"))
    with pytest.raises(ValueError, match="output must be one of"):
        inference.BinaryDenseInference(4, input_bits=40, output="bits")
    layer(np.ones((2, 40), "float32"))
    with pytest.raises(ValueError, match="needs shape"):
        layer.set_packed_weights(np.zeros((4, 1), "int32"), np.ones(4), np.zeros(4))


@pytest.mark.parametrize("header", [
    ["not", "an", "object"],
    {"format": "keras_binary.inference.packed", "version": 1, "model": "m"},  # no weights
    {"format": "keras_binary.inference.packed", "version": 1, "model": "m",
     "weights": [{"path": "w", "shape": [2], "dtype": "float32"}]},  # no sha256
])
def test_malformed_header_raises_packed_file_error(tmp_path, header):
    import json

    path = tmp_path / "bad.npz"
    np.savez(path, w0=np.zeros(2, np.float32),
             __header__=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
    with pytest.raises(PackedFileError, match="export it again"):
        inference.read_packed(path)
