"""Smoke run of benchmarks/bench_gemm_paths.py on a one-shape grid (timings are not checked)."""

import os
import subprocess
import sys

import keras
import pytest

from keras_binary import kernels
from keras_binary.kernels.testing import cpu_supports

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(keras.backend.backend() not in ("jax", "tensorflow")
                    or kernels.kernel_info()["platform"] != "cpu" or not cpu_supports("avx2"),
                    reason="needs the CPU kernels and an AVX2 CPU")
def test_bench_gemm_paths_prints_times_and_paths():
    cmd = [sys.executable, os.path.join(ROOT, "benchmarks", "bench_gemm_paths.py"),
           "--isas", "portable", "avx2", "--rows", "9", "--channels", "5", "--k", "31",
           "--rounds", "1", "--reps", "1"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    row = [line for line in out.stdout.splitlines() if line.startswith("9x31x5 ")]
    assert len(row) == 1, out.stdout
    fields = row[0].split()
    # shape, then (ms, path) per ISA, then the ratio: 9 rows (> 8) and 5 columns take panels.
    assert fields[2] == fields[4] == "panels", row[0]
    assert float(fields[1]) > 0 and float(fields[3]) > 0 and fields[5].endswith("x")
