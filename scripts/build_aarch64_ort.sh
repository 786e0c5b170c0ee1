#!/usr/bin/env bash
# Cross-builds the ONNX Runtime custom-op library (libkeras_binary_ort.so) for 64-bit ARM Linux
# with Debian's g++-aarch64-linux-gnu and cmake/aarch64-linux-gnu.cmake, from the same kernel
# sources as the x86 build (the x86-only paths compile to nothing; the portable kernels run).
# Incremental: a rebuild after no change takes a second. Prints the library's path.
# Usage: scripts/build_aarch64_ort.sh [BUILD_DIR]   (default build/aarch64/build; PYTHON is the
# build machine's interpreter with TensorFlow, whose XLA headers the CMake configure step wants)
set -euo pipefail
cd "${0%/*}/.."
BUILD="${1:-build/aarch64/build}"
PYTHON="${PYTHON:-python3}"
command -v aarch64-linux-gnu-g++ >/dev/null || {
  echo "build_aarch64_ort: aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu)" >&2
  exit 1
}
headers="$(scripts/fetch_ort_headers.sh)"
headers="$(cd "$headers" && pwd -P)"  # CMake is given an absolute path
mkdir -p "$BUILD"
# One build at a time per folder (two test processes may ask at once).
if command -v flock >/dev/null; then
  exec 9>"$BUILD/.build.lock"
  flock 9
fi
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  generator=()
  if command -v ninja >/dev/null; then generator=(-G Ninja); fi
  cmake -S . -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
    -DPython_EXECUTABLE="$(command -v "$PYTHON")" -DKB_CUDA=OFF -DKB_ORT=ON \
    -DKB_ORT_INCLUDE_DIR="$headers" >&2
fi
# Only the ORT library: the XLA kernel library is of no use without JAX/TensorFlow on the target.
cmake --build "$BUILD" --target keras_binary_ort >&2
echo "$(cd "$BUILD" && pwd -P)/libkeras_binary_ort.so"
