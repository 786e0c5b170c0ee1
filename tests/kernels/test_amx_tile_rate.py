"""benchmarks/amx_tile_rate.cc builds with the documented command and prints its whole grid.

Runs only on a CPU (and OS) that allows AMX, with a C++ compiler; times are not checked.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from keras_binary import kernels
from keras_binary.kernels.testing import cpu_supports

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "benchmarks" / "amx_tile_rate.cc"


def test_amx_tile_rate_prints_every_setting(tmp_path):
    if kernels.kernel_info().get("isa") is None or not cpu_supports("amx"):
        pytest.skip("CPU (or OS) does not allow AMX int8")
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    binary = tmp_path / "amx_tile_rate"
    subprocess.run([compiler, "-O2", "-std=c++17", "-mamx-tile", "-mamx-int8",
                    f"-I{ROOT / 'csrc'}", str(SOURCE), "-o", str(binary)], check=True, timeout=120)
    result = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["steps", "data", "work", "set", "accumulators", "ns", "per",
                              "TDPBSSD"]
    settings = set()
    for row in rows:
        steps, data, kib, _, accumulators, ns = row.split()
        assert int(kib) == 4 * int(steps)
        assert float(ns) > 0
        settings.add((int(steps), data, accumulators))
    assert settings == {(s, d, a) for s in (4, 8, 12, 24, 36) for d in ("zeros", "0/1", "+-1")
                        for a in ("stored/block", "kept")}
