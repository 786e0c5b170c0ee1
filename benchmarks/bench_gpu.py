"""Binary kernels and models vs float on one accelerator (JAX only), measured side by side.

Sections (``--sections``; a failing row or section is printed and recorded, the rest runs):

* ``gemm``: ``kernels.binary_matmul`` on int32 operands packed beforehand (float32 output) vs
  ``jnp.dot`` in float32 (default precision: TF32 on recent GPUs), float32 ``HIGHEST`` and
  bfloat16, at M=N=K=4096, 8192 and Bi-Real-Net-18's 3x3 convs as GEMMs (batch 32, 224x224:
  M = 32*H*W, K = 9*C, N = C); then ``kernels.binary_conv2d`` (packed NHWC input, "same") vs
  ``lax.conv_general_dilated`` at those stages. "pack ms": ``kernels.pack_bits`` of the float
  activations. TOPS = 2*M*N*K / time, binary ops counted as the float ones.
* ``e2e``: ``predict_on_batch`` latency of the float, the frozen float
  (`bench_inference.frozen_float`), the frozen float in bfloat16 (Keras's ``mixed_bfloat16``
  policy: what a GPU user would deploy instead) and the converted (`inference.convert`)
  Bi-Real Net 18 and XNOR-Net (224x224, random weights,
  `bench_inference.trained_like_statistics`), first-call (compile) times, argmax agreement of
  converted vs float. Inputs are already on the device.
* ``train``: ``train_on_batch`` on SYNTHETIC random batches, BinaryNet's CIFAR ConvNet and
  Bi-Real Net 18 vs float counterparts (Adam(1e-3), sparse categorical cross-entropy). The zoo
  has no float flag: the counterpart is ``keras.models.clone_model`` of the zoo model, each
  Quant* layer rebuilt from its config with every quantizer (``quantizer_config()`` keys) and
  quantized-kernel constraint set to None (same layers, no sign, no clipping).

Rows print as measured and ``--out`` (JSON) is rewritten after each one. GEMM/conv times:
median of ``--repeats`` repeats of R jitted calls (~``--target-ms`` each), blocking on the
last; on an accelerator, ops shorter than 2 ms run 100 times inside one XLA loop (`looped`) so
that Python dispatch (~50 us per call) does not hide their device time. ``--gemm-paths``
also times forced GPU GEMM paths. The float models run at JAX's default precision (TF32 for
float32 convolutions and matmuls on NVIDIA GPUs). ``import tensorflow`` is made to fail, as
where it is not installed (Keras probes for it).

Usage::

    KERAS_BACKEND=jax python benchmarks/bench_gpu.py --out bench_gpu.json --deadline-s 200
    KERAS_BACKEND=jax python benchmarks/bench_gpu.py --sections e2e --models birealnet18 \\
        --batches 1,256 --out e2e.json
    KERAS_BACKEND=jax python benchmarks/bench_gpu.py --quick --out /tmp/x.json   # CPU smoke run
"""

from __future__ import annotations

import argparse
import datetime
import importlib.abc
import json
import os
import platform
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

if os.environ.setdefault("KERAS_BACKEND", "jax") != "jax":
    sys.exit("bench_gpu.py runs under KERAS_BACKEND=jax only")


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (bench_gpu.py)", name=name)


sys.meta_path.insert(0, _NoTensorFlow())
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "benchmarks")]

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from bench_inference import frozen_float, trained_like_statistics  # noqa: E402

from keras_binary import atomic_io, inference, kernels  # noqa: E402
from keras_binary.inference.speed import time_predict  # noqa: E402
from keras_binary.kernels.testing import force_cuda_gemm  # noqa: E402
from model_zoo.models import get_model  # noqa: E402

STAGES = [(56, 64), (28, 128), (14, 256), (7, 512)]  # Bi-Real-18 3x3 convs: (H = W, C)
QUICK_E2E = {"birealnet18": "birealnet_cifar", "xnornet": "xnornet_cifar"}  # --quick models
# name: (zoo name, builder kwargs, batch, output is logits)
TRAIN = {"binarynet_cnn": ("binarynet_cnn", {}, 128, True),
         "birealnet18": ("birealnet18", {}, 64, False)}
QUICK_TRAIN = {"binarynet_cnn": ("binarynet_cnn", {"width": 0.125}, 8, True),
               "birealnet18": ("birealnet_cifar", {}, 8, False)}
RESULTS: dict[str, Any] = {}
DEADLINE = [float("inf"), float("inf")]  # perf_counter() of the run's end, of the section's


def out_of_time(section: str) -> bool:
    """True (and says so) once --deadline-s is spent: no new row starts."""
    late = RESULTS["sections"][section]["deadline_hit"] = time.perf_counter() > DEADLINE[1]
    if late:
        print(f"  [{section}: --deadline-s reached, rest of the section skipped]", flush=True)
    return late


def save(path: str) -> None:
    atomic_io.write_text(path, json.dumps(RESULTS, indent=1, default=str))


def emit(section: str, row: dict[str, Any], cells: list[str], path: str) -> None:
    RESULTS["sections"][section]["rows"].append(row)
    print("| " + " | ".join(cells) + " |", flush=True)
    save(path)


def header(columns: list[str]) -> None:
    print("\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns), flush=True)


def fmt(v: float | None, spec: str = ".3f", suffix: str = "") -> str:
    return "-" if v is None else format(v, spec) + suffix


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def looped(fn: Callable[..., Any], reps: int) -> Callable[..., Any]:
    """``fn`` applied ``reps`` times inside one XLA program. Optimization barriers tie each
    call's inputs to the loop carry (so the call is not hoisted out of the loop) and keep the
    read of one output element from shrinking the op: device time without per-call dispatch."""
    def run(*args: Any) -> Any:
        def body(_: Any, carry: Any) -> Any:
            inputs, carry = jax.lax.optimization_barrier((args, carry))
            out = jax.lax.optimization_barrier(fn(*inputs))
            return carry + out.reshape(-1)[0].astype(jnp.float32)
        return jax.lax.fori_loop(0, reps, body, jnp.float32(0))

    return jax.jit(run)


def bench(fn: Callable[..., Any], make_args: Callable[[], tuple], repeats: int,
          target_ms: float) -> float:
    """Median ms per call of jitted ``fn(*make_args())``: compile, then ``repeats`` x R calls.
    Calls shorter than 2 ms (where dispatch from Python would dominate) run ``looped``."""
    args = make_args()
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    one_ms = max((time.perf_counter() - start) * 1e3, 1e-3)
    calls, reps = int(min(200, max(1, target_ms / one_ms))), 1
    if one_ms < 2.0 and jax.default_backend() != "cpu":
        reps, calls = 100, 1
        fn = looped(fn, reps)
        jax.block_until_ready(fn(*args))  # compile
    repeats = repeats if one_ms < 1000 else min(repeats, 2)  # a very slow op: fewer repeats
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) * 1e3 / (calls * reps))
    return statistics.median(times)


def attempt(errors: dict, name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or None with the error printed and recorded in ``errors[name]``."""
    try:
        return fn(*args)
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
        errors[name] = traceback.format_exc()
        print(f"  [{name} FAILED: {type(error).__name__}: {str(error)[:300]}]", flush=True)
        return None


def guarded(section: str, label: str, fn: Callable[..., None], *args: Any) -> None:
    """One table row: an exception is printed and recorded, the section goes on."""
    attempt(RESULTS["sections"][section]["row_errors"], label, fn, *args)


def _conv(precision: Any = None) -> Callable[[Any, Any], Any]:
    return jax.jit(lambda a, f: jax.lax.conv_general_dilated(
        a, f, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"), precision=precision))


def on_path(path: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with the GPU GEMM path ``path`` selected (read at launch, not at trace)."""
    if jax.default_backend() != "gpu":
        return fn

    def run(*a: Any) -> Any:
        force_cuda_gemm(path)
        return fn(*a)

    return run


def gemm_row(index: int, op: str, dims: tuple, args: argparse.Namespace) -> None:
    """One GEMM (dims = M, K, N, label) or 3x3 conv (dims = B, H, C) row, all columns."""
    key = jax.random.fold_in(jax.random.key(0), index)
    pack, hi, bf16 = jax.jit(kernels.pack_bits), jax.lax.Precision.HIGHEST, jnp.bfloat16
    if op == "gemm":
        m, k, n, label = dims
        x = jax.random.normal(key, (m, k), jnp.float32)
        w = jax.random.normal(jax.random.fold_in(key, 1), (k, n), jnp.float32)
        binary = jax.jit(lambda a, b: kernels.binary_matmul(a, b, k))
        f32 = jax.jit(jnp.dot)
        f32_hi = jax.jit(lambda a, b: jnp.dot(a, b, precision=hi))
        pack_w = jax.jit(lambda v: kernels.pack_bits(v.T))
    else:
        b, h, c = dims
        m, k, n, label = b * h * h, 9 * c, c, f"{b}x{h}x{h}x{c} 3x3 same"
        x = jax.random.normal(key, (b, h, h, c), jnp.float32)
        w = jax.random.normal(jax.random.fold_in(key, 1), (3, 3, c, c), jnp.float32)
        binary = jax.jit(lambda a, f: kernels.binary_conv2d(a, f, channels=c, padding="same"))
        f32, f32_hi, pack_w = _conv(), _conv(hi), jax.jit(kernels.pack_conv2d_kernel)
    packed = lambda: (pack(x), pack_w(w))  # noqa: E731 - operands packed beforehand
    cases = {"binary": (on_path("auto", binary), packed),
             **{f"binary_{p}": (on_path(p, binary), packed) for p in args.gemm_paths},
             "pack": (pack, lambda: (x,)), "f32": (f32, lambda: (x, w)),
             "f32_highest": (f32_hi, lambda: (x, w)),
             "bf16": (f32, lambda: (x.astype(bf16), w.astype(bf16)))}
    errors: dict[str, str] = {}
    t = {name: attempt(errors, name, bench, fn, make_args, args.repeats, args.target_ms)
         for name, (fn, make_args) in cases.items()}
    flops, versus = 2.0 * m * n * k, ("f32", "f32_highest", "bf16")
    tops = None if t["binary"] is None else flops / t["binary"] / 1e9
    row = {"op": op, "label": label, "shape": f"{m}x{k}x{n}", "flops": flops, "ms": t,
           "binary_tops": tops, "errors": errors,
           **{f"speedup_vs_{c}": ratio(t[c], t["binary"]) for c in versus}}
    emit("gemm", row, [f"{op} {label}", row["shape"], *(fmt(v) for v in t.values()),
                       fmt(tops, ".1f"), *(fmt(row[f"speedup_vs_{c}"], ".2f", "x")
                                           for c in versus)], args.out)


def gemm_section(args: argparse.Namespace) -> None:
    batch = 2 if args.quick else 32
    stages = [(h // 7 + 1, c) for h, c in STAGES] if args.quick else STAGES
    shapes = [("gemm", (n, n, n, f"square {n}")) for n in ([128, 256] if args.quick
                                                          else [4096, 8192])]
    shapes += [("gemm", (batch * h * h, 9 * c, c, f"stage {batch}x{h}x{h}x{c}"))
               for h, c in stages]
    shapes += [("conv", (batch, h, c)) for h, c in stages]
    header(["op", "shape (MxKxN)", "binary ms", *(f"{p} ms" for p in args.gemm_paths),
            "pack ms", "f32 ms", "f32-highest ms",
            "bf16 ms", "binary TOPS", "vs f32", "vs f32-highest", "vs bf16"])
    for index, (op, dims) in enumerate(shapes):
        if out_of_time("gemm"):
            return
        guarded("gemm", f"{op} {dims}", gemm_row, index, op, dims, args)


def seconds(fn: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def bf16_float(model: keras.Model) -> keras.Model:
    """`frozen_float(model)` computing in bfloat16 (float32 variables, ``mixed_bfloat16``)."""
    from keras_binary.inference.frozen import copy_frozen_weights, frozen_config

    def bf16_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = frozen_config(layer)
        if not isinstance(layer, keras.layers.InputLayer):
            config["dtype"] = keras.dtype_policies.serialize(
                keras.dtype_policies.DTypePolicy("mixed_bfloat16"))
        return layer.__class__.from_config(config)

    bf16 = keras.models.clone_model(model, clone_function=bf16_layer)
    for old, new in zip(model.layers, bf16.layers, strict=True):
        copy_frozen_weights(old, new)
    return bf16


def e2e_prepare(zoo_name: str, prepared: dict) -> None:
    """Builds the zoo model, its frozen float copy and (if it converts) its converted model."""
    start = time.perf_counter()
    model = get_model(zoo_name)
    trained_like_statistics(model)
    info = {"model": zoo_name, "build_s": time.perf_counter() - start}
    prepared.update(models={"float": model, "frozen": frozen_float(model),
                            "bf16": bf16_float(model)}, info=info)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        prepared["models"]["converted"] = inference.convert(model, warn=False)
    info["convert_s"] = time.perf_counter() - start
    print(f"  [{zoo_name}: built in {info['build_s']:.1f} s, converted in "
          f"{info['convert_s']:.1f} s]", flush=True)


def e2e_row(prepared: dict, batch: int, repeats: int, out: str) -> None:
    models, info = prepared["models"], prepared["info"]
    shape = (batch, *models["float"].inputs[0].shape[1:])
    x = jnp.asarray(np.random.default_rng(batch).uniform(-1, 1, shape), jnp.float32)
    ms: dict[str, float | None] = dict.fromkeys(("float", "frozen", "bf16", "converted"))
    first_s, outputs, errors = dict(ms), dict(ms), {}
    for key, model in models.items():
        first_s[key] = attempt(errors, key, seconds, model.predict_on_batch, x)  # compiles
        if first_s[key] is not None:
            ms[key], output = attempt(errors, key, time_predict, model, x, repeats,
                                      1) or (None, None)
            outputs[key] = None if output is None else np.asarray(output, np.float32)
    expected, got = outputs["float"], outputs["converted"]
    both = expected is not None and got is not None
    agree = float(np.mean(expected.argmax(-1) == got.argmax(-1))) if both else None
    ips = {k: None if v is None else batch / v * 1e3 for k, v in ms.items()}
    row = {**info, "batch": batch, "input": list(shape[1:]), "ms": ms, "images_per_s": ips,
           "first_call_s": first_s, "speedup_vs_float": ratio(ms["float"], ms["converted"]),
           "speedup_vs_frozen": ratio(ms["frozen"], ms["converted"]),
           "speedup_vs_bf16": ratio(ms["bf16"], ms["converted"]), "argmax_agreement": agree,
           "max_abs_diff": float(np.max(np.abs(expected - got))) if both else None,
           "errors": errors}
    emit("e2e", row, [info["model"], str(batch), "/".join(fmt(v, ".1f") for v in first_s.values()),
                      *(fmt(v, ".2f") for v in ms.values()), *(fmt(v, ".0f") for v in ips.values()),
                      fmt(row["speedup_vs_float"], ".2f", "x"),
                      fmt(row["speedup_vs_frozen"], ".2f", "x"),
                      fmt(row["speedup_vs_bf16"], ".2f", "x"), fmt(agree)], out)


def e2e_section(args: argparse.Namespace) -> None:
    header(["model", "batch", "first call s (float/frozen/bf16/conv)", "float ms", "frozen ms",
            "bf16 ms", "converted ms", "float img/s", "frozen img/s", "bf16 img/s",
            "converted img/s", "speed-up vs float", "vs frozen", "vs bf16", "argmax agree"])
    for name in args.models or ["birealnet18", "xnornet"]:
        zoo_name = QUICK_E2E.get(name, name) if args.quick else name
        prepared: dict[str, Any] = {}
        if out_of_time("e2e"):
            return
        guarded("e2e", f"{zoo_name} build/convert", e2e_prepare, zoo_name, prepared)
        for i, batch in enumerate(args.batches or ([1, 8] if args.quick else [1, 32, 256])):
            if not prepared or (i and out_of_time("e2e")):  # a built model gets one row
                break
            guarded("e2e", f"{zoo_name} batch {batch}", e2e_row, prepared, batch,
                    args.e2e_repeats, args.out)
        prepared.clear()


def float_counterpart(model: keras.Model) -> keras.Model:
    """The same architecture with every quantizer and quantized-kernel constraint off."""
    def strip(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if hasattr(layer, "quantizer_config"):
            config.update(dict.fromkeys(layer.quantizer_config(), None))
            config.update({attr: None for _, _, attr in layer.quantized_kernels})
        return layer.__class__.from_config(config)

    return keras.models.clone_model(model, clone_function=strip)


def train_section(args: argparse.Namespace) -> None:
    zoo = QUICK_TRAIN if args.quick else TRAIN
    header(["model", "variant", "input", "batch", "data", "first call s", "step ms", "img/s",
            "binary/float img/s"])
    float_ips: dict[str, float] = {}

    def one(zoo_name: str, kwargs: dict, batch: int, logits: bool, variant: str) -> None:
        model = get_model(zoo_name, **kwargs)
        model = float_counterpart(model) if variant == "float" else model
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=logits))
        rng = np.random.default_rng(0)
        shape = (batch, *model.inputs[0].shape[1:])
        x = jnp.asarray(rng.uniform(-1, 1, shape), jnp.float32)
        y = jnp.asarray(rng.integers(0, model.outputs[0].shape[-1], batch), jnp.int32)
        first_s = seconds(model.train_on_batch, x, y)  # compiles
        model.train_on_batch(x, y)
        ms = 1e3 * statistics.median(seconds(model.train_on_batch, x, y)  # returns numpy: sync
                                     for _ in range(args.train_steps))
        ips = batch / ms * 1e3
        if variant == "float":
            float_ips[zoo_name] = ips
        rel = ratio(ips, float_ips.get(zoo_name)) if variant == "binary" else None
        row = {"model": zoo_name, "variant": variant, "input": list(shape[1:]), "batch": batch,
               "data": "synthetic", "first_call_s": first_s, "step_ms": ms,
               "images_per_s": ips, "binary_over_float": rel}
        emit("train", row, [zoo_name, variant, "x".join(map(str, shape[1:])), str(batch),
                            "synthetic", f"{first_s:.1f}", f"{ms:.2f}", f"{ips:.0f}",
                            fmt(rel, ".2f", "x")], args.out)

    for name in args.train_models or list(zoo):
        zoo_name, kwargs, batch, logits = zoo[name]
        for variant in ("float", "binary"):
            if out_of_time("train"):
                return
            guarded("train", f"{zoo_name} {variant}", one, zoo_name, kwargs,
                    args.train_batch or batch, logits, variant)


def main(argv: list[str] | None = None) -> None:
    csv = lambda text: [item for item in text.split(",") if item]  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--sections", type=csv, default=["gemm", "e2e", "train"], help="gemm,e2e,train")
    add("--out", default="bench_gpu.json", help="JSON results path")
    add("--quick", action="store_true", help="tiny shapes and models (CPU smoke run)")
    add("--models", type=csv, help="e2e models (default birealnet18,xnornet)")
    add("--batches", type=lambda s: [int(b) for b in csv(s)], help="e2e, run in order (1,32,256)")
    add("--train-models", type=csv, help="train models (default binarynet_cnn,birealnet18)")
    add("--train-batch", type=int, help="train batch (default 128 binarynet_cnn, 64 Bi-Real)")
    add("--train-steps", type=int, default=10, help="timed train steps after 2 warm-up steps")
    add("--repeats", type=int, default=5, help="gemm: repeats (median)")
    add("--gemm-paths", type=csv, default=[], help="gemm on a GPU: also time these forced "
        "GEMM paths (mma,mma_deep,popc,simt) beside the automatic choice")
    add("--target-ms", type=float, default=50.0, help="gemm: length of one repeat")
    add("--e2e-repeats", type=int, default=10, help="e2e: timed predict_on_batch calls")
    add("--deadline-s", type=float, help="time budget: a section starts no new row past an "
        "equal share of the time left when it starts (the run may overrun by one row)")
    args = parser.parse_args(argv)
    sections = {"gemm": gemm_section, "e2e": e2e_section, "train": train_section}
    if set(args.sections) - set(sections):
        parser.error(f"--sections: choose from {','.join(sections)}")
    if args.deadline_s is not None:
        DEADLINE[0] = time.perf_counter() + args.deadline_s
    meta = RESULTS["meta"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": jax.devices()[0].device_kind, "platform": jax.default_backend(),
        "device_count": jax.device_count(), "jax": jax.__version__, "keras": keras.__version__,
        "python": platform.python_version(), "argv": sys.argv[1:], "quick": args.quick,
        "kernel_info": kernels.kernel_info()}
    RESULTS["sections"] = {}
    print("# bench_gpu: " + ", ".join(f"{k} {meta[k]}" for k in
                                      ("date", "device", "platform", "jax", "keras", "python")))
    print(f"kernel_info: {meta['kernel_info']}", flush=True)
    for index, name in enumerate(args.sections):
        start = time.perf_counter()  # each section: an equal share of the time left
        DEADLINE[1] = start + (DEADLINE[0] - start) / (len(args.sections) - index)
        record = RESULTS["sections"][name] = {"rows": [], "row_errors": {}, "error": None}
        print(f"\n## {name}", flush=True)
        try:
            sections[name](args)
        except Exception:  # noqa: BLE001 - one failing section must not stop the others
            record["error"] = traceback.format_exc()
            print(f"\nsection {name} FAILED:\n{record['error']}", flush=True)
        record["seconds"] = time.perf_counter() - start
        print(f"\n[{name}: {record['seconds']:.1f} s]", flush=True)
        save(args.out)
    meta["tensorflow_imported"] = "tensorflow" in sys.modules
    save(args.out)
    print(f"\nwrote {args.out}; tensorflow imported: {meta['tensorflow_imported']}")


if __name__ == "__main__":
    main()
