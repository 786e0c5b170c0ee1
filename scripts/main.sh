#!/usr/bin/env bash
# The main job: set up, prepare real MNIST offline, train a zoo BinaryNet with model.fit, then run
# it through the popcount kernels and print accuracy and speed-up against the float path.
# Extra arguments go to `python -m model_zoo demo` (e.g. --epochs 5, --pretrained).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
"${KB_VENV:-.venv}/bin/python" -m model_zoo demo "$@"
