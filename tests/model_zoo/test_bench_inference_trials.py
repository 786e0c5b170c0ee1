"""bench_inference.py's helpers: --trials combines rows of several worker processes into
medians and a speed-up range (the rows here are made-up numbers, not measurements), and each
backend's worker gets its environment."""

from __future__ import annotations

import pytest

from tests.benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_inference")


def _row(model, float_ms, binary_ms, agree=True, argmax=1.0):
    return {"backend": "jax", "model": model, "input": "8x8x1", "batch": 1,
            "float_ms": float_ms, "frozen_float_ms": float_ms / 2, "binary_ms": binary_ms,
            "speedup": float_ms / binary_ms, "speedup_vs_frozen": float_ms / 2 / binary_ms,
            "agree": agree, "argmax_agreement": argmax}


def test_combine_trials_takes_medians_and_the_speedup_range(bench):
    trials = [[_row("a", 30.0, 6.0), _row("b", 10.0, 1.0)],
              [_row("a", 40.0, 5.0), _row("b", 12.0, 2.0, argmax=0.5)],
              [_row("a", 36.0, 9.0, agree=False), _row("b", 11.0, 1.0)]]
    a, b = bench.combine_trials(trials)
    assert (a["model"], b["model"]) == ("a", "b")
    assert a["float_ms"] == 36.0 and a["binary_ms"] == 6.0
    assert a["speedup"] == 5.0  # median of 5.0, 8.0, 4.0: not float median / binary median
    assert a["speedup_range"] == (4.0, 8.0)
    assert a["agree"] is False and b["agree"] is True
    assert b["argmax_agreement"] == 0.5 and b["trials"] == 3
    table = bench.table([a, b])
    assert "speedup range" in table and "| 4.0-8.0x |" in table and "NO" in table


def test_combine_trials_rejects_trials_with_different_rows(bench):
    with pytest.raises(ValueError):
        bench.combine_trials([[_row("a", 1.0, 1.0)], [_row("a", 1.0, 1.0), _row("b", 1.0, 1.0)]])
    with pytest.raises(ValueError, match="different"):
        bench.combine_trials([[_row("a", 1.0, 1.0)], [_row("b", 1.0, 1.0)]])


def test_single_trial_table_has_no_range_column(bench):
    assert "range" not in bench.table([_row("a", 2.0, 1.0)])


def test_worker_env_keeps_large_blocks_on_the_heap_for_jax_only(bench):
    base = {"PATH": "/bin", "MALLOC_TRIM_THRESHOLD_": "4096"}
    jax_env = bench.worker_env("jax", base)
    assert jax_env["KERAS_BACKEND"] == "jax" and jax_env["PATH"] == "/bin"
    assert jax_env["MALLOC_MMAP_THRESHOLD_"] == str(1 << 30)
    assert jax_env["MALLOC_TRIM_THRESHOLD_"] == "4096"  # a value the caller set is kept
    tf_env = bench.worker_env("tensorflow", {"PATH": "/bin"})
    assert tf_env["KERAS_BACKEND"] == "tensorflow"
    assert "MALLOC_MMAP_THRESHOLD_" not in tf_env and "MALLOC_TRIM_THRESHOLD_" not in tf_env
    assert base == {"PATH": "/bin", "MALLOC_TRIM_THRESHOLD_": "4096"}  # not modified
