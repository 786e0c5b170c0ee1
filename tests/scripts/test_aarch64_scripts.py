"""scripts/fetch_aarch64_runtime.sh: a complete runtime of the wanted versions is reused offline;
a half-done or outdated one is never taken for it. scripts/build_aarch64_ort.sh: no cross
compiler, one line that says what to install. (The fetch and the build themselves run in
tests/inference/test_onnx_aarch64.py.)"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
SCRIPT = SCRIPTS / "fetch_aarch64_runtime.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
onnxruntime = pytest.importorskip("onnxruntime", reason="its version picks the wheels")


def _stamp() -> str:
    import numpy

    return f"onnxruntime=={onnxruntime.__version__} numpy=={numpy.__version__} python3.11"


def _run(dest: Path) -> subprocess.CompletedProcess:
    # No tools on PATH: a fetch fails at once for want of apt-get, so success means the cache.
    return subprocess.run(["/bin/bash", str(SCRIPT), str(dest)], capture_output=True, text=True,
                          env={"PATH": "/nonexistent", "PYTHON": sys.executable}, check=False)


def test_a_complete_runtime_is_reused_without_fetching(tmp_path):
    dest = tmp_path / "runtime"
    (dest / "site").mkdir(parents=True)
    (dest / "COMPLETE").write_text(_stamp() + "\n")
    result = _run(dest)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(dest)


@pytest.mark.parametrize("stamp", [None, "onnxruntime==1.0.0 numpy==1.0.0 python3.11"])
def test_a_half_done_or_outdated_runtime_is_fetched_again(tmp_path, stamp):
    dest = tmp_path / "runtime"
    (dest / "site").mkdir(parents=True)
    if stamp is not None:
        (dest / "COMPLETE").write_text(stamp + "\n")
    result = _run(dest)
    assert result.returncode == 1
    assert "fetch_aarch64_runtime: apt-get not found" in result.stderr


def test_the_build_without_a_cross_compiler_says_what_to_install(tmp_path):
    result = subprocess.run(["/bin/bash", str(SCRIPTS / "build_aarch64_ort.sh"),
                             str(tmp_path / "build")], capture_output=True, text=True,
                            env={"PATH": "/nonexistent"}, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ("build_aarch64_ort: aarch64-linux-gnu-g++ not found "
                                     "(apt-get install g++-aarch64-linux-gnu)")
    assert not (tmp_path / "build").exists()
