"""keras-binary against what a practitioner would deploy instead on a CPU, side by side in one run.

Times, in one process under the current Keras backend and with the same number of threads:

* ResNet-18 in ONNX Runtime, fp32 and INT8 (static quantization in QDQ format, per-channel
  QInt8 weights, QUInt8 activations, as ORT recommends on x86). The network is written here
  as an ONNX graph (BatchNorm folded into the convolutions, as in an exported trained model)
  with random He-initialized weights and calibrated on random images: its speed is that of a
  trained ResNet-18, its outputs are not.
* Bi-Real Net 18 from the zoo (random weights, trained-like BatchNorm statistics), as its
  float Keras model, converted to the popcount kernels (``inference.convert``), and that
  converted model exported to ONNX (``inference.export_onnx``) and run in the same ONNX Runtime
  with the binary custom ops (the row is left out, with a note, when the custom-op library is
  not built).

Each row: 10 warm-up calls (0.5 s at least for Keras, `inference.speed.time_predict`), then the
median of ``--repeats`` calls, batch 1 and 32, 224x224x3 inputs. ``onnxruntime`` and ``onnx``
come with the ``bench`` extra. Usage::

    KERAS_BACKEND=jax python benchmarks/bench_anchors.py --out runs/anchors_jax.json
    KERAS_BACKEND=tensorflow python benchmarks/bench_anchors.py --threads 1
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # ResNet-18: (channels, first stride) per stage
IMAGE = (224, 224, 3)


class _GraphBuilder:
    """Collects the nodes and initializers of an NCHW ONNX graph with He-initialized convs."""

    def __init__(self, seed: int) -> None:
        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self.rng = np.random.default_rng(seed)

    def _name(self, prefix: str) -> str:
        return f"{prefix}{len(self.nodes)}"

    def conv(self, x: str, c_in: int, c_out: int, k: int, stride: int, relu: bool) -> str:
        from onnx import helper, numpy_helper

        w, b, y = self._name("w"), self._name("b"), self._name("conv")
        fan_in = c_in * k * k
        kernel = self.rng.normal(0, np.sqrt(2.0 / fan_in), (c_out, c_in, k, k))
        bias = self.rng.normal(0, 0.05, c_out)  # folded BatchNorm shift
        self.weights += [numpy_helper.from_array(kernel.astype(np.float32), w),
                         numpy_helper.from_array(bias.astype(np.float32), b)]
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y], kernel_shape=[k, k],
                                           strides=[stride, stride], pads=[k // 2] * 4))
        return self.relu(y) if relu else y

    def relu(self, x: str) -> str:
        from onnx import helper

        y = self._name("relu")
        self.nodes.append(helper.make_node("Relu", [x], [y]))
        return y

    def add(self, a: str, b: str) -> str:
        from onnx import helper

        y = self._name("add")
        self.nodes.append(helper.make_node("Add", [a, b], [y]))
        return y


def resnet18_onnx(path: Path, classes: int = 1000, seed: int = 0) -> None:
    """Writes ResNet-18 (NCHW, dynamic batch, opset 17) to ``path``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = _GraphBuilder(seed)
    x = g.conv("image", 3, 64, 7, 2, relu=True)
    pooled = "pool"
    g.nodes.append(helper.make_node("MaxPool", [x], [pooled], kernel_shape=[3, 3],
                                    strides=[2, 2], pads=[1, 1, 1, 1]))
    x, c_in = pooled, 64
    for c_out, stride in STAGES:
        for block in range(2):
            s = stride if block == 0 else 1
            y = g.conv(x, c_in, c_out, 3, s, relu=True)
            y = g.conv(y, c_out, c_out, 3, 1, relu=False)
            shortcut = x if (s == 1 and c_in == c_out) else g.conv(x, c_in, c_out, 1, s, False)
            x, c_in = g.relu(g.add(y, shortcut)), c_out
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
    g.nodes.append(helper.make_node("Flatten", ["gap"], ["features"]))
    fc = g.rng.normal(0, np.sqrt(1.0 / 512), (512, classes)).astype(np.float32)
    g.weights += [numpy_helper.from_array(fc, "fc_w"),
                  numpy_helper.from_array(np.zeros(classes, np.float32), "fc_b")]
    g.nodes.append(helper.make_node("Gemm", ["features", "fc_w", "fc_b"], ["logits"]))
    graph = helper.make_graph(
        g.nodes, "resnet18", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                            ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        g.weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def quantize_int8(fp32: Path, int8: Path, calibration_images: int = 8) -> None:
    """Static INT8 quantization of ``fp32`` into ``int8`` (QDQ, per-channel, as ORT advises)."""
    from onnxruntime import quantization as q

    prepared = fp32.with_name("prepared.onnx")
    q.quant_pre_process(str(fp32), str(prepared))
    rng = np.random.default_rng(1)
    images = iter(rng.uniform(-1, 1, (calibration_images, 1, 3, 224, 224)).astype(np.float32))

    class Reader(q.CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            image = next(images, None)
            return None if image is None else {"image": image}

    q.quantize_static(str(prepared), str(int8), Reader(), quant_format=q.QuantFormat.QDQ,
                      per_channel=True, weight_type=q.QuantType.QInt8,
                      activation_type=q.QuantType.QUInt8)


def ort_session(path: Path, threads: int, optimized: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(optimized)
    options.log_severity_level = 3  # the optimized copy is for the op histogram only
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def op_histogram(path: Path) -> dict[str, int]:
    """Op type counts of an ONNX file (ORT's optimized graph: what actually runs)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return dict(collections.Counter(node.op_type for node in model.graph.node).most_common())


def time_ort(session: Any, batch: int, repeats: int, warmup: int = 10,
             layout: str = "NCHW") -> float:
    """Median ms of ``session.run`` on one random batch of 224x224x3 images in ``layout``."""
    shape = (batch, 3, 224, 224) if layout == "NCHW" else (batch, *IMAGE)
    x = np.random.default_rng(batch).uniform(-1, 1, shape).astype(np.float32)
    feed = {session.get_inputs()[0].name: x}
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def exported_rows(converted: Any, batches: list[int], repeats: int,
                  threads: int) -> dict[str, dict[int, float]]:
    """The converted Bi-Real-18 exported to ONNX, in ONNX Runtime with the binary custom ops;
    empty (with a note) when the custom-op library is not built."""
    import onnxruntime as ort

    from keras_binary import inference

    try:
        inference.ort_library_path()
    except FileNotFoundError as error:
        print(f"note: no exported Bi-Real-18 row: {str(error).splitlines()[0]}")
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        path = inference.export_onnx(converted, Path(tmp) / "bireal18.onnx")
        options = inference.register_ops(ort.SessionOptions())
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return {"Bi-Real-18 exported (ORT custom ops)": {
            b: time_ort(session, b, repeats, layout="NHWC") for b in batches}}


def set_threads(threads: int) -> None:
    """Gives XLA and TensorFlow ``threads`` threads (before Keras loads; the popcount kernels
    get theirs in `keras_rows`, ONNX Runtime in `ort_session`)."""
    multi = "true" if threads > 1 else "false"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_cpu_multi_thread_eigen={multi}").strip()
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"


def keras_rows(batches: list[int], repeats: int, threads: int) -> dict[str, dict[int, float]]:
    """Bi-Real Net 18 float, converted and exported to ORT, ms per batch."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    import keras
    from bench_inference import trained_like_statistics

    from keras_binary import inference, kernels
    from keras_binary.inference.speed import time_predict
    from model_zoo.models import get_model

    kernels.set_num_threads(threads)
    keras.utils.set_random_seed(0)
    model = get_model("birealnet18")
    trained_like_statistics(model)
    converted = inference.convert(model, warn=False)
    rows: dict[str, dict[int, float]] = {"Bi-Real-18 float (Keras)": {},
                                         "Bi-Real-18 converted (popcount)": {}}
    for batch in batches:
        x = np.random.default_rng(batch).uniform(-1, 1, (batch, *IMAGE)).astype(np.float32)
        for label, net in zip(rows, (model, converted), strict=True):
            rows[label][batch], _ = time_predict(net, x, repeats)
    rows.update(exported_rows(converted, batches, repeats, threads))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per row (median)")
    parser.add_argument("--out", help="JSON results path")
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",") if b]
    if args.threads < 1 or not batches or min(batches) < 1 or args.repeats < 1:
        parser.error("--threads, --batches and --repeats must be positive")
    set_threads(args.threads)
    rows: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        resnet18_onnx(folder / "fp32.onnx")
        quantize_int8(folder / "fp32.onnx", folder / "int8.onnx")
        histograms = {}
        for label, name in (("ResNet-18 fp32 (ORT)", "fp32"), ("ResNet-18 INT8 (ORT)", "int8")):
            session = ort_session(folder / f"{name}.onnx", args.threads,
                                  folder / f"{name}_optimized.onnx")
            rows[label] = {b: time_ort(session, b, args.repeats) for b in batches}
            histograms[label] = op_histogram(folder / f"{name}_optimized.onnx")
    rows.update(keras_rows(batches, args.repeats, args.threads))
    import keras
    import onnxruntime

    meta = {"date": datetime.date.today().isoformat(), "backend": keras.backend.backend(),
            "threads": args.threads, "machine": platform.processor() or platform.machine(),
            "onnxruntime": onnxruntime.__version__, "keras": keras.__version__}
    int8 = rows["ResNet-18 INT8 (ORT)"]
    print(f"# bench_anchors: {', '.join(f'{k} {v}' for k, v in meta.items())}")
    print("| model | " + " | ".join(f"batch {b} ms | img/s | vs ORT INT8" for b in batches) + " |")
    print("|---|" + "---|---|---|" * len(batches))
    for label, ms in rows.items():
        cells = [f"{ms[b]:.2f} | {b / ms[b] * 1e3:.0f} | {int8[b] / ms[b]:.2f}x" for b in batches]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("ORT INT8 ops after optimization:", histograms["ResNet-18 INT8 (ORT)"])
    if args.out:
        from keras_binary import atomic_io

        atomic_io.write_text(args.out, json.dumps({"meta": meta, "ms": rows,
                                                   "ort_ops": histograms}, indent=1))


if __name__ == "__main__":
    main()
