"""scripts/bootstrap.sh reinstalls only when an input of the install changed
(scripts/install_state.sh decides; tested here on a scratch checkout, nothing is installed)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _state(checkout: Path, command: str) -> str:
    result = subprocess.run(
        ["bash", "-c", f"source {SCRIPTS / 'install_state.sh'} && {command}"],
        cwd=checkout, capture_output=True, text=True, check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "CMakeLists.txt").write_text("project(x)\n")
    (tmp_path / "csrc").mkdir()
    (tmp_path / "csrc" / "kernel.cc").write_text("int f() { return 1; }\n")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(sys.executable)
    return tmp_path


def test_first_install_then_up_to_date(checkout):
    assert _state(checkout, "install_reason .venv") == "no install stamp (first install)"
    _state(checkout, "write_install_stamp .venv")
    assert _state(checkout, "install_reason .venv") == ""
    assert not [p for p in (checkout / ".venv").iterdir() if ".XXX" in p.name or "stamp." in p.name]


def test_a_missing_venv_is_new(checkout):
    assert _state(checkout, "install_reason elsewhere") == "the virtual environment is new"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda root: (root / "pyproject.toml").write_text("[project]\nname = 'y'\n"),
         "pyproject.toml changed"),
        (lambda root: (root / "csrc" / "kernel.cc").write_text("int f() { return 2; }\n"),
         "csrc/ changed"),
        (lambda root: (root / "csrc" / "new.h").write_text("#pragma once\n"), "csrc/ changed"),
        (lambda root: (root / "cmake").mkdir() or (root / "cmake" / "x.cmake").write_text("#\n"),
         "CMake files changed"),
        (lambda root: (root / "CMakeLists.txt").write_text("project(y)\n"),
         "CMake files changed"),
    ],
)
def test_a_changed_input_is_named(checkout, edit, reason):
    _state(checkout, "write_install_stamp .venv")
    edit(checkout)
    assert _state(checkout, "install_reason .venv") == reason


def test_python_edits_and_build_outputs_do_not_reinstall(checkout):
    _state(checkout, "write_install_stamp .venv")
    (checkout / "module.py").write_text("x = 1\n")
    (checkout / "build").mkdir()
    (checkout / "build" / "cache.cmake").write_text("#\n")
    assert _state(checkout, "install_reason .venv") == ""


def test_two_changes_and_another_interpreter(checkout):
    _state(checkout, "write_install_stamp .venv")
    (checkout / "pyproject.toml").write_text("changed\n")
    stamp = checkout / ".venv" / ".keras-binary-install-stamp"
    stamp.write_text(stamp.read_text().replace("Python-version ", "Python-version 0."))
    assert _state(checkout, "install_reason .venv") == "pyproject.toml, Python version changed"


def test_pip_progress_prints_a_line_per_phase():
    pip_output = "\n".join([
        "Collecting keras", "Collecting numpy", "  Downloading numpy-2.whl (16 MB)",
        "  Building editable for keras-binary (pyproject.toml): started",
        *(f"  [{i}/8] Building CXX object k{i}.o" for i in range(1, 9)),
        "Installing collected packages: numpy, keras", "Successfully installed keras numpy",
    ])
    result = subprocess.run(["awk", "-f", os.fspath(SCRIPTS / "pip_progress.awk")],
                            input=pip_output, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "[bootstrap]   resolving dependencies",
        "[bootstrap]   building keras-binary (C++ popcount kernels)",
        "[bootstrap]   compiled 2 of 8 build steps",
        "[bootstrap]   compiled 4 of 8 build steps",
        "[bootstrap]   compiled 6 of 8 build steps",
        "[bootstrap]   compiled 8 of 8 build steps",
        "[bootstrap]   installing packages (1 downloaded)",
    ]
