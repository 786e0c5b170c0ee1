"""benchmarks/profile_gpu.py: the trace summary it prints after a GPU run."""

from __future__ import annotations

import keras
import pytest

from tests.benchmark_scripts import load_benchmark

profile_gpu = load_benchmark("profile_gpu")


def _meta(pid, name, tid=None):
    kind = "process_name" if tid is None else "thread_name"
    event = {"ph": "M", "pid": pid, "name": kind, "args": {"name": name}}
    if tid is not None:
        event["tid"] = tid
    return event


def _op(pid, tid, name, dur, **args):
    return {"ph": "X", "pid": pid, "tid": tid, "name": name, "ts": 0, "dur": dur, "args": args}


def test_gpu_trace_counts_device_ops_only_per_call():
    events = [
        _meta(1, "/host:CPU"), _meta(1, "tf_XLAPjRtCpuClient/1", tid=7),
        _meta(2, "/device:GPU:0"),
        _op(1, 7, "fusion.9", 500.0),  # host work: not a device op where a GPU is traced
        _op(2, 3, "void bmma_kernel<...>", 300.0, hlo_op="custom-call.1"),
        _op(2, 3, "void bmma_kernel<...>", 300.0, hlo_op="custom-call.1"),
        _op(2, 3, "copy_transpose", 100.0, hlo_op="transpose.4"),
        _op(2, 4, "memcpy", 100.0),
    ]
    summary = profile_gpu.summarize_events(events, calls=2)
    assert summary["device_ops_per_call"] == 2.0
    assert summary["device_us_per_call"] == 400.0
    top = summary["top"][0]
    assert (top["op"], top["us_per_call"], top["count_per_call"]) == ("custom-call.1", 300.0, 1)
    assert top["share"] == pytest.approx(0.75)
    assert [r["op"] for r in summary["layout_ops"]] == ["transpose.4", "memcpy"]
    assert summary["layout_us_per_call"] == 100.0
    text = profile_gpu.format_summary("case", summary)
    assert "custom-call.1 | 0.300 | 1.0 | 75.0%" in text


def test_cpu_trace_keeps_xla_thunks_without_bookkeeping():
    events = [_meta(1, "/host:CPU"), _meta(1, "tf_XLAEigen/2", tid=5), _meta(1, "python", tid=6),
              _op(1, 5, "transpose_copy_fusion", 40.0),
              _op(1, 5, "ThreadpoolListener::Record", 9.0),
              _op(1, 5, "end: transpose_copy_fusion", 1.0), _op(1, 6, "PjitFunction(f)", 80.0)]
    summary = profile_gpu.summarize_events(events, calls=1)
    assert [r["op"] for r in summary["top"]] == ["transpose_copy_fusion"]
    assert summary["layout_us_per_call"] == 40.0


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="jax.profiler traces JAX only")
def test_real_trace_of_a_jitted_function(tmp_path):
    import jax
    import jax.numpy as jnp

    f = jax.jit(lambda a, b: jnp.tanh(a @ b).T + 1.0)
    a = jnp.ones((256, 256))
    f(a, a).block_until_ready()
    summary = profile_gpu.profile(lambda: f(a, a), tmp_path, calls=2)
    assert summary["calls"] == 2
    assert summary["device_ops_per_call"] >= 1
    assert summary["device_us_per_call"] > 0
    assert summary["top"]
