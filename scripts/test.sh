#!/usr/bin/env bash
# Runs the test suite once per Keras backend (TensorFlow, JAX, then PyTorch). Extra arguments go to pytest.
# Usage: bash scripts/test.sh [pytest args]
# KB_TEST_WORKERS (default 2) pytest-xdist processes share each run: one test process keeps about
# 1.3 of 2 cores busy (compiles are single-threaded); KB_TEST_WORKERS=0 runs in one process.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh || { echo "[test] installation failed" >&2; exit 1; }
VENV="${KB_VENV:-.venv}"
WORKERS="${KB_TEST_WORKERS:-2}"
status=0
for backend in tensorflow jax torch; do
  echo "[test] ===== KERAS_BACKEND=$backend ====="
  KERAS_BACKEND=$backend "$VENV/bin/python" -m pytest -q -n "$WORKERS" --durations=10 "$@"
  rc=$?
  if [ $rc -eq 5 ]; then
    echo "[test] KERAS_BACKEND=$backend: pytest collected no tests; that is a failure here" >&2
    status=1
  elif [ $rc -ne 0 ]; then
    echo "[test] KERAS_BACKEND=$backend: pytest exited with $rc" >&2
    status=1
  fi
done
exit $status
