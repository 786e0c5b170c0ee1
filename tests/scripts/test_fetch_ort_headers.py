"""scripts/fetch_ort_headers.sh: ONNX Runtime's headers from Debian into a build folder, cached
(the cached case runs offline; the fetch itself is exercised by every build that configures)."""

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch_ort_headers.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def test_cached_headers_are_reused_without_fetching(tmp_path):
    include = tmp_path / "usr" / "include" / "onnxruntime"
    include.mkdir(parents=True)
    (include / "onnxruntime_c_api.h").write_text("/* cached */\n")
    # An empty PATH: a fetch would fail for want of apt-get, so success means the cache served.
    result = subprocess.run(["/bin/bash", str(SCRIPT), str(tmp_path)], capture_output=True,
                            text=True, env={"PATH": ""}, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(include)


def test_missing_tools_fail_with_the_reason(tmp_path):
    result = subprocess.run(["/bin/bash", str(SCRIPT), str(tmp_path / "dest")],
                            capture_output=True, text=True, env={"PATH": "/nonexistent"},
                            check=False)
    assert result.returncode == 1
    assert "fetch_ort_headers: apt-get not found" in result.stderr
