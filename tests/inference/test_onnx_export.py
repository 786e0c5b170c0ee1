"""export_onnx + onnx_session: converted models in ONNX Runtime equal the converted Keras model
(bit-exact where the last layer is binary, float tolerance after float layers), with the binary
layers as ai.keras_binary custom ops."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_binary import inference
from keras_binary.inference.onnx_graph import DOMAIN
from keras_binary.kernels import testing
from keras_binary.layers import QuantConv2D, QuantDense
from tests.inference import models

onnx = pytest.importorskip("onnx", reason="the onnx extra (onnx) is not installed")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra (onnxruntime) is not installed")
try:
    inference.ort_library_path()
except FileNotFoundError as error:
    pytest.skip(f"ORT custom-op library not built: {str(error).splitlines()[0]}",
                allow_module_level=True)

# Float layers after the last binary layer (BN folding differs in rounding from Keras's BN).
FLOAT_TOL = {"rtol": 1e-5, "atol": 1e-5}


def run_ort(fast: keras.Model, x: np.ndarray, path, threads: int | None = 1) -> np.ndarray:
    inference.export_onnx(fast, path)
    session = inference.onnx_session(path, threads=threads)
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def convert_quietly(model: keras.Model) -> keras.Model:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return inference.convert(model, warn=False)


def custom_ops(path) -> set[str]:
    return {n.op_type for n in onnx.load(os.fspath(path)).graph.node if n.domain == DOMAIN}


def dilated_convnet() -> keras.Model:
    """Dilation with zero padding, then one padding with strides: packed in, float out."""
    inputs = keras.Input((9, 8, 35))
    x = QuantConv2D(33, 3, dilation_rate=2, padding="same", pad_values=0.0,
                    **models.BIN)(inputs)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, QuantConv2D(7, 2, strides=2, padding="same", pad_values=1.0,
                                           **models.BIN)(x))


# (builder, exact): exact when the model ends in a binary layer's float epilogue.
TEST_MODELS = {
    "exact_dense": (models.exact_dense, True),
    "exact_conv_zero_pad": (lambda: models.exact_conv(0.0, 2), True),
    "exact_conv_one_pad": (lambda: models.exact_conv(1.0, 1), True),
    "binarynet_mlp": (models.binarynet_mlp, False),
    "binarynet_mlp_dropout": (lambda: models.binarynet_mlp(dropout=True), False),
    "binarynet_convnet": (models.binarynet_convnet, False),
    "grouped_convnet": (models.grouped_convnet, True),
    "xnor_net": (models.xnor_net, False),
    "bireal_net": (models.bireal_net, False),
    "dilated_convnet": (dilated_convnet, True),
}


@pytest.mark.parametrize("name", sorted(TEST_MODELS))
def test_converted_model_runs_in_ort_like_keras(name, tmp_path):
    builder, exact = TEST_MODELS[name]
    _, fast, x, _, expected = models.converted(builder())
    got = run_ort(fast, x, tmp_path / "m.onnx")
    assert custom_ops(tmp_path / "m.onnx")  # the binary layers are custom ops
    if exact:
        np.testing.assert_array_equal(got, np.asarray(expected))
    else:
        np.testing.assert_allclose(got, np.asarray(expected), **FLOAT_TOL)


ZOO = {
    "binarynet_mlp_4096": {"input_shape": (12, 12, 1), "hidden_units": 96,
                           "num_hidden_layers": 2},
    "binarynet_cnn": {"input_shape": (16, 16, 3)},
    "xnornet_cifar": {"input_shape": (16, 16, 3), "num_classes": 5},
    "birealnet18": {"input_shape": (32, 32, 3), "num_classes": 5},
    "birealnet34": {"input_shape": (32, 32, 3), "num_classes": 5},
    "binary_alexnet": {"input_shape": (64, 64, 3), "num_classes": 5},
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model_exports_and_matches(name, tmp_path):
    from model_zoo.models import get_model

    model = get_model(name, **ZOO[name])
    x = models.sample_inputs(model, batch=2)
    models.randomize(model, x)
    fast = convert_quietly(model)
    got = run_ort(fast, x, tmp_path / "m.onnx", threads=2)
    assert {"BinaryConv2d", "BinaryMatmul", "BinaryConv2dPacked", "BinaryMatmulPacked",
            "BinaryConv2dFloat"} & custom_ops(tmp_path / "m.onnx")
    np.testing.assert_allclose(got, np.asarray(fast.predict_on_batch(x)), **FLOAT_TOL)


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_pretrained_model_classifies_like_keras(dataset, tmp_path):
    from model_zoo.datasets import mnist_slice
    from model_zoo.models import get_model

    model = get_model("binarynet_mlp_2048", weights=dataset)
    fast = convert_quietly(model)
    _, _, x, labels = mnist_slice(0, 500, dataset=dataset)
    got = run_ort(fast, x, tmp_path / "m.onnx", threads=None)
    expected = np.asarray(fast.predict(x, batch_size=100, verbose=0))
    # The float first layer rounds differently in ORT's MatMul and XLA's dot: a hidden value
    # within rounding of 0 may flip its sign bit (seen on 1 of 1000 real MNIST test images).
    same = np.isclose(got, expected, **FLOAT_TOL).all(axis=-1)
    assert same.mean() >= 0.99
    assert (got.argmax(-1) == expected.argmax(-1)).mean() >= 0.99
    ort_accuracy = (got.argmax(-1) == labels).mean()
    assert ort_accuracy > 0.8  # real test images, shipped weights
    assert ort_accuracy == pytest.approx((expected.argmax(-1) == labels).mean(), abs=0.004)


def test_packed_outputs_are_bit_exact(convnet, tmp_path):
    """A model whose output is a binary layer's packed words: integers, compared exactly."""
    _, fast, x, _, _ = convnet
    packed = keras.Model(fast.inputs, fast.get_layer(fast.layers[3].name).output)
    assert keras.backend.standardize_dtype(packed.outputs[0].dtype) == "int32"
    got = run_ort(packed, x, tmp_path / "p.onnx")
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.asarray(packed.predict_on_batch(x)))
    assert "PackedMaxPool2d" in custom_ops(tmp_path / "p.onnx") or \
        "BinaryConv2dPacked" in custom_ops(tmp_path / "p.onnx")


def test_ort_threads_give_the_same_outputs(tmp_path):
    """ORT's pool (KernelContext_ParallelFor) splits the GEMMs; results do not depend on it."""
    _, fast, x, _, expected = models.converted(models.grouped_convnet(), batch=5)
    one = run_ort(fast, x, tmp_path / "a.onnx", threads=1)
    four = run_ort(fast, x, tmp_path / "b.onnx", threads=4)
    np.testing.assert_array_equal(one, four)
    np.testing.assert_array_equal(four, np.asarray(expected))


def test_nan_rows_stay_nan_like_keras(tmp_path):
    _, fast, x, _, _ = models.converted(models.binarynet_mlp())
    x = x.copy()
    x[1, 2, 3, 0] = np.nan
    got = run_ort(fast, x, tmp_path / "m.onnx")
    expected = np.asarray(fast.predict_on_batch(x))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    assert np.isnan(got[1]).all() and not np.isnan(got[0]).any()


def test_nan_rows_of_fused_dense_layers_stay_nan_like_keras(tmp_path):
    _, fast, x, _, _ = models.converted(residual_dense())
    x = x.copy()
    x[1, 2, 5] = np.nan  # one row of sample 1
    got = run_ort(fast, x, tmp_path / "m.onnx")
    expected = np.asarray(fast.predict_on_batch(x))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    assert np.isnan(got[1, 2]).all() and np.isnan(got).sum() == got.shape[-1]


def residual_conv() -> keras.Model:
    """A binary conv on a float input whose output only feeds a shortcut Add: exported as one
    BinaryConv2dFloat with the shortcut as its residual input; the model's output is that sum,
    so ORT and the converted Keras model must agree exactly."""
    inputs = keras.Input((7, 6, 40))
    x = QuantConv2D(40, 3, padding="same", pad_values=0.0, **models.BIN)(inputs)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, keras.layers.Add()([x, inputs]))


def residual_dense() -> keras.Model:
    """`residual_conv` for a binary dense layer (rows of 2 x 3 leading axes)."""
    inputs = keras.Input((3, 70))
    x = QuantDense(70, **models.BIN)(inputs)
    return keras.Model(inputs, keras.layers.Add()([inputs, x]))


@pytest.mark.parametrize("builder, op", [(residual_conv, "BinaryConv2dFloat"),
                                         (residual_dense, "BinaryMatmulFloat")])
def test_residual_add_is_fused_and_bit_exact(builder, op, tmp_path):
    _, fast, x, _, expected = models.converted(builder())
    got = run_ort(fast, x, tmp_path / "m.onnx", threads=2)
    np.testing.assert_array_equal(got, np.asarray(expected))
    nodes = onnx.load(os.fspath(tmp_path / "m.onnx")).graph.node
    assert [n.op_type for n in nodes] == [op, "Identity"]
    assert len(nodes[0].input) == 5  # x, kernel, scale, bias, residual


@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512"])
def test_fused_residual_is_bit_exact_on_every_isa(isa, tmp_path):
    """The residual epilogue of each ISA, in a fresh process (the library reads
    KERAS_BINARY_ISA when it loads)."""
    if not testing.cpu_supports(isa):
        pytest.skip(f"this CPU has no {isa}")
    _, fast, x, _, expected = models.converted(residual_conv(), batch=4)
    inference.export_onnx(fast, tmp_path / "m.onnx")
    x[2, 3, 1, 5] = np.nan
    np.save(tmp_path / "x.npy", x)
    code = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "o = ort.SessionOptions(); o.register_custom_ops_library(sys.argv[1])\n"
        "s = ort.InferenceSession(sys.argv[2] + '/m.onnx', o)\n"
        "x = np.load(sys.argv[2] + '/x.npy')\n"
        "np.save(sys.argv[2] + '/y.npy', s.run(None, {s.get_inputs()[0].name: x})[0])\n")
    subprocess.run([sys.executable, "-c", code, os.fspath(inference.ort_library_path()),
                    os.fspath(tmp_path)], check=True, timeout=120,
                   env=dict(os.environ, KERAS_BINARY_ISA=isa))
    got = np.load(tmp_path / "y.npy")
    np.testing.assert_array_equal(got[[0, 1, 3]], np.asarray(expected)[[0, 1, 3]])
    assert np.isnan(got[2]).all()


def test_bireal_blocks_need_no_separate_packing_nan_checks_or_adds(tmp_path):
    """Bi-Real's blocks (binary conv, BN, shortcut add) export to BinaryConv2dFloat alone."""
    _, fast, x, _, expected = models.converted(models.bireal_net())
    got = run_ort(fast, x, tmp_path / "m.onnx")
    np.testing.assert_allclose(got, np.asarray(expected), **FLOAT_TOL)
    ops = [n.op_type for n in onnx.load(os.fspath(tmp_path / "m.onnx")).graph.node]
    assert ops.count("BinaryConv2dFloat") == 2
    assert not {"PackBits", "IsNaN", "Where", "Sum"} & set(ops)


def bireal_blocks() -> keras.Model:
    """Bi-Real blocks straight on the input: no max pooling in front, whose NaN handling differs
    between TensorFlow (drops NaN) and ONNX Runtime (keeps it)."""
    inputs = keras.Input((9, 9, 8))
    x = models._bireal_block(models._bireal_block(inputs, 8, 1), 16, 2)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x)))


def test_nan_samples_of_fused_convs_stay_nan_like_keras(tmp_path):
    _, fast, x, _, _ = models.converted(bireal_blocks(), batch=3)
    x = x.copy()
    x[1, 4, 5, 2] = np.nan
    got = run_ort(fast, x, tmp_path / "m.onnx", threads=2)
    assert "BinaryConv2dFloat" in custom_ops(tmp_path / "m.onnx")
    expected = np.asarray(fast.predict_on_batch(x))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    assert np.isnan(got[1]).all() and not np.isnan(got[[0, 2]]).any()


def test_export_checks_and_writes_atomically(tmp_path):
    _, fast, _, _, _ = models.converted(models.exact_dense())
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    assert inference.export_onnx(fast, path) == os.fspath(path)
    onnx.checker.check_model(onnx.load(os.fspath(path)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    graph = onnx.load(os.fspath(path)).graph
    kernel = next(t for t in graph.initializer if t.name.endswith("packed_kernel"))
    assert kernel.data_type == onnx.TensorProto.INT32  # 1 bit per weight: 33 x 2 words
    assert tuple(kernel.dims) == (33, 2)


def test_unsupported_layer_error_names_it(tmp_path):
    inputs = keras.Input((4, 3))
    outputs = keras.layers.LSTM(2, name="my_lstm")(inputs)
    with pytest.raises(ValueError, match="layer 'my_lstm' \\(LSTM\\) has no ONNX export"):
        inference.export_onnx(keras.Model(inputs, outputs), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_unsupported_activation_error_names_the_layer(tmp_path):
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(2, activation="elu", name="elu_dense")(inputs)
    with pytest.raises(ValueError, match="layer 'elu_dense' uses activation"):
        inference.export_onnx(keras.Model(inputs, outputs), tmp_path / "m.onnx")


def test_bad_kernel_input_is_a_one_line_ort_error(tmp_path):
    """The custom ops check shapes and report the op and the problem through ORT."""
    helper = onnx.helper
    node = helper.make_node("BinaryMatmul", ["x", "w", "s", "b"], ["y"], domain=DOMAIN, k=40)
    graph = helper.make_graph(
        [node], "bad",
        [helper.make_tensor_value_info(n, t, None) for n, t in
         (("x", 6), ("w", 6), ("s", 1), ("b", 1))],
        [helper.make_tensor_value_info("y", 1, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid(DOMAIN, 1)])
    model.ir_version = 8
    session = inference.onnx_session(model.SerializeToString())
    feeds = {"x": np.zeros((2, 1), np.int32), "w": np.zeros((3, 2), np.int32),
             "s": np.ones(3, np.float32), "b": np.zeros(3, np.float32)}
    with pytest.raises(Exception, match="BinaryMatmul: packed shapes \\[2, 1\\] and \\[3, 2\\] "
                                        "do not hold k=40 bits per row"):
        session.run(None, feeds)


def test_residual_of_the_wrong_shape_is_a_one_line_ort_error(tmp_path):
    _, fast, x, _, _ = models.converted(residual_conv())
    path = inference.export_onnx(fast, tmp_path / "m.onnx")
    model = onnx.load(path)
    residual = model.graph.node[0].input[4]
    pooled = onnx.helper.make_node("MaxPool", [residual], ["pooled"], kernel_shape=[1, 2],
                                   strides=[1, 2])
    # The residual becomes the NCHW input pooled along W: [B, 7, 6, 40] -> [B, 7, 6, 20].
    model.graph.node[0].input[4] = "pooled"
    model.graph.node.insert(0, pooled)
    session = inference.onnx_session(model.SerializeToString())
    with pytest.raises(Exception, match="BinaryConv2dFloat: residual \\[3, 7, 6, 20\\] must "
                                        "have the output's shape \\[3, 7, 6, 40\\]"):
        session.run(None, {session.get_inputs()[0].name: x})


@pytest.mark.parametrize("target", ["amd64", "arm"])
def test_ort_format_runs_like_the_onnx_file(tmp_path, target):
    """The .ort file (ORT's mobile format, optimized for one CPU family) keeps the custom ops:
    x86 runs both targets' files here (the arm one also runs on aarch64 in
    test_onnx_aarch64)."""
    _, fast, x, _, expected = models.converted(models.grouped_convnet())
    onnx_path = inference.export_onnx(fast, tmp_path / "m.onnx")
    ort_path = inference.export_ort_format(onnx_path, target_platform=target)
    assert ort_path == os.fspath(tmp_path / "m.ort")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.ort"]
    assert Path(ort_path).read_bytes()[4:8] == b"ORTM"  # the ORT format's file identifier
    session = inference.onnx_session(ort_path, threads=1)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_array_equal(got, np.asarray(expected))


def test_ort_format_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="target_platform must be one of"):
        inference.export_ort_format(tmp_path / "m.onnx", target_platform="riscv")
    with pytest.raises(ValueError, match="m.onnx is not a file"):
        inference.export_ort_format(tmp_path / "m.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(RuntimeError, match="converting .*bad.onnx to the ORT format failed: "):
        inference.export_ort_format(tmp_path / "bad.onnx", tmp_path / "bad.ort")
    assert not (tmp_path / "bad.ort").exists()
