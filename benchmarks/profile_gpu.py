"""Profiles one converted inference batch and one training step under JAX, summarized as text.

For each case it records a ``jax.profiler`` trace (``create_perfetto_trace=True``) of a few calls
after compilation and prints what the trace shows about where the time goes: total device
time per call, the top ops by time, the copies and transposes (layout work XLA added around
the custom calls or the quantizers), and the number of device ops (kernel launches on a GPU)
per call. The cases: the converted model and its float model at ``--batch`` (default 256),
and ``train_on_batch`` of the binary model and its float counterpart on SYNTHETIC data.

On a GPU the device ops are the CUDA kernels on the device's streams; on a CPU (a smoke run,
``--quick``) they are the XLA thunks on the CPU client's threads.

Usage::

    KERAS_BACKEND=jax python benchmarks/profile_gpu.py --out runs/gpu/profile
    KERAS_BACKEND=jax python benchmarks/profile_gpu.py --quick --out /tmp/profile   # CPU
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

# Host-side bookkeeping the CPU client records beside its XLA thunks.
_CPU_BOOKKEEPING = ("ThreadpoolListener", "ThunkExecutor", "SlinkyThreadPool", "end: ")
_LAYOUT_WORDS = ("copy", "transpose", "memcpy", "memset")


def _thread_kinds(events: list[dict]) -> tuple[set, set]:
    """(device pids, XLA CPU thread (pid, tid)s) from the trace's metadata events."""
    device_pids, cpu_threads = set(), set()
    for e in events:
        if e.get("ph") != "M":
            continue
        name = e.get("args", {}).get("name", "")
        if e.get("name") == "process_name" and name.startswith("/device:"):
            device_pids.add(e["pid"])
        elif e.get("name") == "thread_name" and name.startswith("tf_XLA"):
            cpu_threads.add((e["pid"], e.get("tid")))
    return device_pids, cpu_threads


def device_ops(events: list[dict]) -> list[dict]:
    """The trace's device op events: GPU stream events where the trace has a GPU, else the XLA
    CPU client's thunk events (without its thread-pool bookkeeping)."""
    device_pids, cpu_threads = _thread_kinds(events)
    timed = [e for e in events if e.get("ph") == "X" and "dur" in e]
    if device_pids:
        return [e for e in timed if e["pid"] in device_pids]
    return [e for e in timed if (e["pid"], e.get("tid")) in cpu_threads
            and not e["name"].startswith(_CPU_BOOKKEEPING)]


def op_name(event: dict) -> str:
    """The HLO op an event belongs to where the trace says so, else the event's name."""
    args = event.get("args") or {}
    return str(args.get("hlo_op") or args.get("long_name") or event["name"])


def summarize_events(events: list[dict], calls: int, top: int = 15) -> dict[str, Any]:
    """Per-call totals, the ``top`` ops by time and the copies/transposes of ``calls`` calls."""
    ops = device_ops(events)
    by_op: dict[str, list[float]] = collections.defaultdict(list)
    for e in ops:
        by_op[op_name(e)].append(float(e["dur"]))
    total_us = sum(sum(d) for d in by_op.values())
    rows = sorted(((sum(d), len(d), name) for name, d in by_op.items()), reverse=True)
    layout = [r for r in rows if any(w in r[2].lower() for w in _LAYOUT_WORDS)]

    def row(total: float, count: int, name: str) -> dict[str, Any]:
        return {"op": name, "us_per_call": total / calls, "count_per_call": count / calls,
                "share": total / total_us if total_us else 0.0}

    return {"calls": calls, "device_ops_per_call": len(ops) / calls,
            "device_us_per_call": total_us / calls, "top": [row(*r) for r in rows[:top]],
            "layout_ops": [row(*r) for r in layout],
            "layout_us_per_call": sum(r[0] for r in layout) / calls}


def read_trace(log_dir: Path) -> list[dict]:
    """The events of the newest ``*.trace.json.gz`` that ``jax.profiler.trace`` wrote."""
    traces = sorted(log_dir.glob("plugins/profile/*/*.trace.json.gz"), key=os.path.getmtime)
    if not traces:
        raise FileNotFoundError(f"no *.trace.json.gz under {log_dir}/plugins/profile")
    with gzip.open(traces[-1], "rt") as f:
        data = json.load(f)
    return data["traceEvents"] if isinstance(data, dict) else data


def format_summary(title: str, summary: dict[str, Any]) -> str:
    lines = [f"## {title}",
             f"device time {summary['device_us_per_call'] / 1e3:.3f} ms/call, "
             f"{summary['device_ops_per_call']:.0f} device ops/call, copies+transposes "
             f"{summary['layout_us_per_call'] / 1e3:.3f} ms/call "
             f"({len(summary['layout_ops'])} distinct)",
             "| op | ms/call | ops/call | share |", "|---|---|---|---|"]
    for r in summary["top"]:
        lines.append(f"| {r['op'][:90]} | {r['us_per_call'] / 1e3:.3f} | "
                     f"{r['count_per_call']:.1f} | {100 * r['share']:.1f}% |")
    for r in summary["layout_ops"][:10]:
        lines.append(f"  layout: {r['op'][:90]}: {r['us_per_call'] / 1e3:.3f} ms/call")
    return "\n".join(lines)


def profile(fn: Any, log_dir: Path, calls: int) -> dict[str, Any]:
    """Traces ``calls`` calls of ``fn`` (already compiled) and summarizes them."""
    import jax

    with jax.profiler.trace(str(log_dir), create_perfetto_trace=True):
        for _ in range(calls):
            jax.block_until_ready(fn())
    return summarize_events(read_trace(log_dir), calls)


def cases(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """(title, zero-argument call) per profiled case, each compiled and run once already."""
    import jax.numpy as jnp
    import keras
    import numpy as np
    from bench_gpu import float_counterpart
    from bench_inference import frozen_float, trained_like_statistics

    from keras_binary import inference
    from model_zoo.models import get_model

    rng = np.random.default_rng(0)
    name = "birealnet_cifar" if args.quick else args.model
    batch = 4 if args.quick else args.batch
    model = get_model(name)
    trained_like_statistics(model)
    x = jnp.asarray(rng.uniform(-1, 1, (batch, *model.inputs[0].shape[1:])), jnp.float32)
    converted = inference.convert(model, warn=False)
    frozen = frozen_float(model)
    result = [(f"{name} converted, batch {batch}", lambda: converted.predict_on_batch(x)),
              (f"{name} float (frozen), batch {batch}", lambda: frozen.predict_on_batch(x))]
    train_batch = 4 if args.quick else args.train_batch
    xt, yt = x[:train_batch], jnp.asarray(rng.integers(0, 10, train_batch), jnp.int32)
    for variant, net in (("binary", get_model(name)), ("float", None)):
        net = net if net is not None else float_counterpart(get_model(name))
        net.compile(optimizer=keras.optimizers.Adam(1e-3),
                    loss=keras.losses.SparseCategoricalCrossentropy())
        result.append((f"{name} train step ({variant}, SYNTHETIC data), batch {train_batch}",
                       lambda net=net: net.train_on_batch(xt[:train_batch], yt)))
    for _, fn in result:
        fn()  # compile outside the trace
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/profile", help="folder for traces and summary")
    parser.add_argument("--model", default="birealnet18")
    parser.add_argument("--batch", type=int, default=256, help="inference batch")
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--calls", type=int, default=3, help="traced calls per case")
    parser.add_argument("--quick", action="store_true", help="tiny model (CPU smoke run)")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [os.path.dirname(here), here]
    import jax

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    texts, summaries = [f"# profile on {jax.devices()[0].device_kind}"], {}
    for index, (title, fn) in enumerate(cases(args)):
        summaries[title] = profile(fn, out / f"trace{index}", args.calls)
        texts.append(format_summary(title, summaries[title]))
        print(texts[-1] + "\n", flush=True)
    from keras_binary import atomic_io

    atomic_io.write_text(out / "summary.md", "\n\n".join(texts) + "\n")
    atomic_io.write_text(out / "summary.json", json.dumps(summaries, indent=1))


if __name__ == "__main__":
    main()
