"""benchmarks/bench_anchors.py: the ONNX ResNet-18 it compares against."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmark_scripts import load_benchmark

pytest.importorskip("onnxruntime", reason="the bench extra (onnxruntime) is not installed")
bench_anchors = load_benchmark("bench_anchors")


def test_resnet18_graph_is_resnet18_and_quantizes_to_qlinear_ops(tmp_path):
    fp32, int8 = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    bench_anchors.resnet18_onnx(fp32, classes=10)
    graph = bench_anchors.op_histogram(fp32)
    # 1 stem + 16 block convs + 3 projection shortcuts; one Add and one Relu per block.
    assert graph["Conv"] == 20 and graph["Add"] == 8 and graph["Relu"] == 17
    bench_anchors.quantize_int8(fp32, int8, calibration_images=1)
    session = bench_anchors.ort_session(int8, 1, tmp_path / "int8_optimized.onnx")
    x = np.zeros((2, 3, 224, 224), np.float32)
    (logits,) = session.run(None, {"image": x})
    assert logits.shape == (2, 10) and np.isfinite(logits).all()
    ran = bench_anchors.op_histogram(tmp_path / "int8_optimized.onnx")
    assert ran.get("QLinearConv", 0) == 20, ran


def test_exported_row_times_the_converted_model_in_ort_with_custom_ops():
    import keras

    from keras_binary import inference
    from keras_binary.layers import QuantConv2D

    try:
        inference.ort_library_path()
    except FileNotFoundError:
        pytest.skip("ORT custom-op library not built")
    inputs = keras.Input(bench_anchors.IMAGE)
    outputs = QuantConv2D(8, 3, strides=8, input_quantizer="ste_sign",
                          kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                          use_bias=False)(inputs)
    fast = inference.convert(keras.Model(inputs, outputs), warn=False)
    rows = bench_anchors.exported_rows(fast, [1, 2], repeats=1, threads=1)
    (ms,) = rows.values()
    assert list(rows) == ["Bi-Real-18 exported (ORT custom ops)"]
    assert sorted(ms) == [1, 2] and min(ms.values()) > 0
