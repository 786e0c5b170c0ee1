"""End-to-end latency of converted binary models vs their float Keras models, side by side.

For each zoo model (random weights drawn with a fixed seed, so every run and trial times the
same model; the float model and the converted model share them) and
batch size, times ``predict_on_batch`` of both with `keras_binary.inference.compare_speed`
(each model warmed up for half a second of calls first, so the times are steady-state ones),
and checks that the predictions agree. "frozen float" is the stricter float baseline: the same
model with its quantized kernels stored, so no call re-quantizes latent kernels, compiled as
the converted model is (one XLA program; on PyTorch a graph capture without code generation;
the plain float model runs as Keras leaves it: eager on PyTorch, no XLA on CPU TensorFlow).
Runs every requested backend in its own process (the Keras backend is fixed per process) and
prints one Markdown table. JAX workers start with glibc's ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` raised (unless already set), as `bench_kernels.py`'s do: otherwise a
JAX process may page-fault XLA's large buffers in on every call.

Usage::

    python benchmarks/bench_inference.py                       # default set, three backends
    python benchmarks/bench_inference.py --backends jax --models birealnet18 --batches 1
    python benchmarks/bench_inference.py --quick                # tiny shapes, a smoke run
    python benchmarks/bench_inference.py --trials 3             # 3 processes per backend

Default set (~5 minutes a backend on 2 cores): binarynet_mlp_2048 and binarynet_cnn at batch 1
and 32, xnornet and birealnet18 (ImageNet, 224x224) at batch 1 -- Bi-Real-18 at batch 1 is
the headline number (goal: >= 5x its float model).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import warnings
from collections.abc import Mapping

DEFAULT_RUNS = [("binarynet_mlp_2048", 1), ("binarynet_mlp_2048", 32), ("binarynet_cnn", 1),
                ("binarynet_cnn", 32), ("xnornet", 1), ("birealnet18", 1)]
QUICK_MODELS = {  # --quick: the small variants
    "binarynet_mlp_2048": ("binarynet_mlp_4096", {"hidden_units": 256}),
    "binarynet_cnn": ("binarynet_cnn", {"width": 0.25}),
    "xnornet": ("xnornet_cifar", {}),
    "birealnet18": ("birealnet_cifar", {}),
}


def trained_like_statistics(model) -> None:
    """Random non-integer BatchNorm means (as after training). With the initial zero means an
    integer accumulator of 0 sits exactly on a sign threshold, where the float model's rounding
    of alpha-scaled sums decides the bit arbitrarily."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.uniform(-0.5, 0.5, n) + 0.25)
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, n))


def frozen_float(model):
    """The float model with its quantized kernels stored (kernel quantizers replaced by an
    identity), so a float call does not re-quantize the latent kernels, and compiled as the
    converted model is (a `ConvertedModel`: XLA on JAX and TensorFlow, which leaves XLA off on
    CPU by default; on PyTorch the same graph capture without code generation, as Inductor
    takes over 10 minutes to compile Bi-Real-18 here): the stricter baseline."""
    import keras

    from keras_binary.inference import ConvertedModel
    from keras_binary.inference.frozen import copy_frozen_weights, frozen_config

    frozen = keras.models.clone_model(
        model, clone_function=lambda layer: layer.__class__.from_config(frozen_config(layer)))
    for old, new in zip(model.layers, frozen.layers, strict=True):
        copy_frozen_weights(old, new)
    return ConvertedModel(frozen.input, frozen.output, name=frozen.name)


def measure(runs: list[tuple[str, int]], repeats: int, quick: bool) -> list[dict]:
    """Builds, converts and times each (model, batch) under the current backend."""
    import keras
    import numpy as np

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    from keras_binary import inference, kernels
    from model_zoo.models import get_model

    rows, cache = [], {}
    for name, batch in runs:
        if name not in cache:
            zoo_name, kwargs = QUICK_MODELS.get(name, (name, {})) if quick else (name, {})
            keras.utils.set_random_seed(0)
            model = get_model(zoo_name, **kwargs)
            trained_like_statistics(model)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[name] = (model, inference.convert(model, warn=False), frozen_float(model))
        model, fast, _ = cache[name]
        shape = (batch,) + tuple(model.inputs[0].shape[1:])
        x = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
        stats = inference.compare_speed(model, x, converted=fast, repeats=repeats, warmup=1)
        frozen_ms, frozen_y = inference.time_predict(cache[name][2], x, repeats, warmup=1)
        stats["frozen_float_ms"] = frozen_ms
        stats["speedup_vs_frozen"] = frozen_ms / stats["binary_ms"]
        rows.append({"backend": keras.backend.backend(), "model": name,
                     "input": "x".join(str(d) for d in shape[1:]), "batch": batch,
                     "isa": kernels.kernel_info().get("isa"), **stats})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def worker_env(backend: str, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of a worker process for ``backend``: ``base`` plus the backend, and for
    JAX glibc's mmap and trim thresholds raised to 1 GiB unless ``base`` sets them.

    Large blocks then stay on glibc's heap (as in bench_kernels.py). Otherwise, in some JAX
    processes, XLA's buffers come from fresh mmaps and are page-faulted in on every call, in
    either model (Bi-Real-18, 2-core Xeon VM: its float model at batch 1 took 54-63 ms in such
    processes, 35-40 ms with these set; the binary model at batch 8, 52-57 ms against 37-45).
    TensorFlow reuses its buffers; with these set its binary Bi-Real-18 measured 6-9% slower,
    so its workers keep glibc's defaults.
    """
    env = dict(base, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    if backend == "jax":
        env.setdefault("MALLOC_MMAP_THRESHOLD_", str(1 << 30))
        env.setdefault("MALLOC_TRIM_THRESHOLD_", str(1 << 30))
    return env


def combine_trials(trials: list[list[dict]]) -> list[dict]:
    """One row per (backend, model, batch) from several worker processes: the medians of the
    times and of the per-process speed-ups, with the speed-ups' range. Each process measures
    its float and binary models side by side; the spread between processes is why there are
    several (it was 30-40% on JAX, both models alike, before the workers kept large blocks on
    glibc's heap; see main)."""
    combined = []
    for group in zip(*trials, strict=True):
        if len({(r["backend"], r["model"], r["batch"]) for r in group}) != 1:
            raise ValueError("trials measured different (backend, model, batch) rows")
        row = dict(group[0])
        for key in ("float_ms", "frozen_float_ms", "binary_ms", "speedup", "speedup_vs_frozen"):
            row[key] = statistics.median(r[key] for r in group)
        row["speedup_range"] = (min(r["speedup"] for r in group), max(r["speedup"] for r in group))
        row["agree"] = all(r["agree"] for r in group)
        row["argmax_agreement"] = min(r["argmax_agreement"] for r in group)
        row["trials"] = len(group)
        combined.append(row)
    return combined


def table(rows: list[dict]) -> str:
    ranges = any(r.get("trials", 1) > 1 for r in rows)
    lines = ["| backend | model | input | batch | float ms | frozen float ms | binary ms "
             "| speedup (vs frozen) |" + (" speedup range |" if ranges else "") + " agree |",
             "|---|---|---|---|---|---|---|---|" + ("---|" if ranges else "") + "---|"]
    for r in rows:
        spread = (f" {r['speedup_range'][0]:.1f}-{r['speedup_range'][1]:.1f}x |"
                  if ranges else "")
        lines.append(
            f"| {r['backend']} | {r['model']} | {r['input']} | {r['batch']} | "
            f"{r['float_ms']:.2f} | {r['frozen_float_ms']:.2f} | {r['binary_ms']:.2f} | "
            f"{r['speedup']:.1f}x ({r['speedup_vs_frozen']:.1f}x) |{spread} "
            f"{'yes' if r['agree'] else 'NO'} (argmax {r['argmax_agreement']:.2f}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow", "torch"])
    parser.add_argument("--models", nargs="+", default=None,
                        help="zoo model names (default: the set in the module docstring)")
    parser.add_argument("--batches", nargs="+", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trials", type=int, default=1,
                        help="worker processes per backend; the table shows medians over them "
                             "and the range of the speed-up")
    parser.add_argument("--quick", action="store_true", help="small input shapes (smoke run)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.models:
        runs = [(m, b) for m in args.models for b in (args.batches or [1, 32])]
    else:
        runs = [r for r in DEFAULT_RUNS if not args.batches or r[1] in args.batches]
    if args.worker:
        print(json.dumps(measure(runs, args.repeats, args.quick)))
        return
    rows = []
    for backend in args.backends:
        command = [sys.executable, os.path.abspath(__file__), "--worker",
                   "--repeats", str(args.repeats)]
        command += ["--models", *sorted({m for m, _ in runs})] if args.models else []
        command += ["--batches", *map(str, args.batches)] if args.batches else []
        command += ["--quick"] if args.quick else []
        env = worker_env(backend, os.environ)
        trials = []
        for _ in range(args.trials):
            result = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True,
                                    check=True)
            trials.append(json.loads(result.stdout.strip().splitlines()[-1]))
        rows += combine_trials(trials) if args.trials > 1 else trials[0]
    import platform

    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs\n")
    print(table(rows))


if __name__ == "__main__":
    main()
