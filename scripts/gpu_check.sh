#!/usr/bin/env bash
# The whole GPU check in one call, on a machine with an NVIDIA GPU (compute capability >= 8.0)
# and JAX with CUDA; TensorFlow is not needed. Steps, each time-limited and logged to
# $KB_GPU_OUT (default runs/gpu; a log and the benchmarks' JSON files): device facts, the CUDA
# library (built here with nvcc if absent), the SASS instruction mix of its kernels, the GPU
# tests, the GPU benchmarks (binary vs TF32 and bf16), BinaryNet on real MNIST with model.fit
# (needs .gpu/mnist.npz from `python benchmarks/fit_mnist.py --export-npz`), a profile of one
# converted batch-256 call and one training step summarized as text ($out/profile/summary.md:
# top ops, copies/transposes, launches), the converted-model tests on the GPU.
# Python packages missing there (keras, namex, optree) can come as wheels in .whl/; they are
# unpacked onto PYTHONPATH. Usage: bash scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out="${KB_GPU_OUT:-runs/gpu}"
mkdir -p "$out"
py="${PYTHON:-python3}"
if compgen -G ".whl/*.whl" > /dev/null; then
  for wheel in .whl/*.whl; do "$py" -m zipfile -e "$wheel" /tmp/kb_site; done
  export PYTHONPATH="/tmp/kb_site${PYTHONPATH:+:$PYTHONPATH}"
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD"
lib=keras_binary/kernels/libkeras_binary_cuda.so
log="$out/gpu_check.log"  # every step's whole output; its tail is printed as it ends
step() {  # step NAME SECONDS COMMAND...: runs COMMAND with a time limit
  local name=$1 limit=$2 start
  shift 2
  echo "== $name ($(date -u +%H:%M:%S), limit ${limit}s)" | tee -a "$log"
  start=$(wc -l < "$log")
  timeout "$limit" "$@" >> "$log" 2>&1
  local rc=$?
  tail -n +"$((start + 1))" "$log" | tail -n 25
  echo "== $name: exit $rc" | tee -a "$log"
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$log"
if [ ! -f "$lib" ]; then
  inc=$("$py" -c "import jax.ffi; print(jax.ffi.include_dir())")
  step build 300 bash -c "cmake -S . -B build/gpu -DKB_CUDA=ON -DKB_XLA_FFI_INCLUDE_DIR=$inc \
    && cmake --build build/gpu -j --target keras_binary_cuda"
fi
# Steps to run, in order (default: all); e.g. KB_GPU_STEPS="info test_cuda bench_e2e_train".
steps="${KB_GPU_STEPS:-info sass test_cuda bench_gemm fit_mnist bench_e2e_train profile test_inference}"
for name in $steps; do
  case $name in
    info) step info 60 "$py" -c "from keras_binary import kernels; print(kernels.kernel_info())" ;;
    sass) step sass 60 bash -c "cuobjdump -sass $lib \
        | grep -oE '(BMMA|IMMA|HMMA|POPC|LDSM|LDGSTS)[.A-Z0-9_]*' | sort | uniq -c" ;;
    test_cuda) step test_cuda 200 "$py" -m pytest -q -p no:cacheprovider \
        tests/kernels/test_cuda.py ;;
    bench_gemm) step bench_gemm 150 "$py" benchmarks/bench_gpu.py --sections gemm \
        --gemm-paths "${KB_GPU_GEMM_PATHS:-mma,mma_deep,popc}" --target-ms 20 \
        --deadline-s "${KB_GPU_GEMM_SECONDS:-130}" --out "$out/bench_gemm.json" ;;
    fit_mnist) [ -f .gpu/mnist.npz ] && step fit_mnist 150 "$py" benchmarks/fit_mnist.py \
        --npz .gpu/mnist.npz --epochs 2 --out "$out/fit_mnist.json" ;;
    bench_e2e_train) step bench_e2e_train 200 "$py" benchmarks/bench_gpu.py \
        --sections "${KB_GPU_E2E_SECTIONS:-e2e,train}" --batches 256,32,1 \
        --deadline-s "${KB_GPU_E2E_SECONDS:-170}" --out "$out/bench_e2e_train.json" ;;
    profile) step profile 180 "$py" benchmarks/profile_gpu.py --out "$out/profile" \
        --batch 256 --calls 3 ;;
    test_inference) step test_inference 200 "$py" -m pytest -q -p no:cacheprovider \
        tests/inference tests/kernels/test_ops.py tests/kernels/test_compiled.py ;;
    *) echo "unknown step $name" >&2 ;;
  esac
done
