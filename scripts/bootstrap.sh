#!/usr/bin/env bash
# Creates the project's virtual environment (default .venv, or $KB_VENV) if it does not exist
# and installs keras-binary with its test extras into it (builds the popcount kernel library).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${KB_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[bootstrap] creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
echo "[bootstrap] installing keras-binary[test] into $VENV"
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
