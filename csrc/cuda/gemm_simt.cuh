// Binary GEMM on the CUDA cores (xor + popc): one lane per output column, one warp per row
// (grid: x over groups of rows, y over 32-column output words).
// Used for small row counts (batch-1 dense layers), where the tensor-core tile would idle,
// and as an independent second implementation (KERAS_BINARY_CUDA_GEMM=simt).
#pragma once

#include "sources.cuh"

namespace kb_cuda {

constexpr int kSimtRowsPerBlock = 8;  // warps per block

template <class Source, bool kPacked>
__global__ void __launch_bounds__(32 * kSimtRowsPerBlock)
    GemmSimtKernel(Source src, const uint32_t* __restrict__ w, Epilogue ep) {
  const int lane = threadIdx.x % 32;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kSimtRowsPerBlock + threadIdx.x / 32;
  const int64_t c = static_cast<int64_t>(blockIdx.y) * 32 + lane;
  if (r >= src.Rows()) return;  // whole warps leave together
  const int64_t kwords = src.KWords();
  const bool live = c < ep.n;
  const uint32_t* w_row = w + (live ? c : 0) * kwords;
  int mismatches = 0;
  for (int64_t kk = 0; kk < kwords; ++kk) {
    const uint32_t* a = src.Chunk(r, kk);
    const uint32_t mask = src.Mask(kk);
    const uint32_t av = a ? *a : 0u;
    const uint32_t bv = live ? w_row[kk] : 0u;
    mismatches += __popc((av ^ bv) & mask);
  }
  float y = 0.0f;
  if (live) {
    int acc = static_cast<int>(src.KBits()) - 2 * mismatches;
    if (src.NeedsCorrection(r)) acc -= src.PadCorrection(r, w_row);
    y = Affine(acc, ep, c);
  }
  if constexpr (kPacked) {
    const uint32_t bits = __ballot_sync(0xffffffffu, live && y < 0.0f);
    if (lane == 0) ep.out_packed[r * CeilDiv(ep.n, 32) + blockIdx.y] = bits;
  } else {
    if (live) ep.out_float[r * ep.n + c] = y;
  }
}

}  // namespace kb_cuda
