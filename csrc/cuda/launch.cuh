// Launch logic shared by the matmul and conv2d entry points (two translation units, so the
// kernel instantiations compile in parallel): choose the GEMM path and the copy width.
#pragma once

#include "gemm_simt.cuh"
#include "gemm_tiled.cuh"
#include "kb_cuda.h"

namespace kb_cuda {
namespace {

// Fewer rows than this leave most of a 128-row tensor-core tile idle: use one lane per output.
constexpr int64_t kMinMmaRows = 64;
// The 3-stage, 32-word pipeline from 4096 bits of K and 2^24 outputs up: it wins only on long K
// and large outputs (benchmarks/bench_gpu.py --gemm-paths; docs/performance-notes.md, "GPU").
constexpr int64_t kMinDeepKWords = 128;
constexpr int64_t kMinDeepOutputs = int64_t{1} << 24;

bool Aligned(const void* p, int bytes) {
  return reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(bytes) == 0;
}

// Widest copy (in words) that keeps every chunk inside one contiguous run of `run` words.
int ChunkWords(int64_t run, const void* a, const void* b) {
  for (int vec : {4, 2}) {
    if (run % vec == 0 && Aligned(a, 4 * vec) && Aligned(b, 4 * vec)) return vec;
  }
  return 1;
}

template <class Cfg, class Source, bool kPacked, bool kTensorCores, int kVec>
void LaunchTiledVec(const Source& src, int64_t rows, const uint32_t* w, const Epilogue& ep,
                    cudaStream_t stream) {
  auto kernel = tiled::GemmTiledKernel<Cfg, Source, kVec, kPacked, kTensorCores>;
  if (Cfg::kSharedBytes > 48 * 1024) {  // above the default limit: opt in (per kernel)
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSharedBytes);
  }
  const dim3 grid(static_cast<unsigned>(CeilDiv(rows, tiled::kBM)),
                  static_cast<unsigned>(CeilDiv(ep.n, tiled::kBN)));
  kernel<<<grid, tiled::kThreads, Cfg::kSharedBytes, stream>>>(src, w, ep);
}

template <class Cfg, class Source, bool kPacked, bool kTensorCores>
void LaunchTiled(const Source& src, int64_t rows, const uint32_t* w, const Epilogue& ep, int vec,
                 cudaStream_t stream) {
  switch (vec) {
    case 4:
      return LaunchTiledVec<Cfg, Source, kPacked, kTensorCores, 4>(src, rows, w, ep, stream);
    case 2:
      return LaunchTiledVec<Cfg, Source, kPacked, kTensorCores, 2>(src, rows, w, ep, stream);
    default:
      return LaunchTiledVec<Cfg, Source, kPacked, kTensorCores, 1>(src, rows, w, ep, stream);
  }
}

template <class Source, bool kPacked>
void LaunchSimt(const Source& src, int64_t rows, const uint32_t* w, const Epilogue& ep,
                cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(CeilDiv(rows, kSimtRowsPerBlock)),
                  static_cast<unsigned>(CeilDiv(ep.n, 32)));
  GemmSimtKernel<Source, kPacked><<<grid, 32 * kSimtRowsPerBlock, 0, stream>>>(src, w, ep);
}

template <class Source>
cudaError_t Launch(const Source& src, int64_t rows, int64_t run, const void* a,
                   const uint32_t* w, const Epilogue& ep, cudaStream_t stream) {
  if (rows == 0 || ep.n == 0) return cudaSuccess;
  const bool packed = ep.out_packed != nullptr;
  GemmPath path = ActiveGemmPath();
  if (path == GemmPath::kAuto) {
    if (rows < kMinMmaRows) {
      path = GemmPath::kSimt;
    } else {  // the deep pipeline only on long K and large outputs (kMinDeep* above)
      const bool large = src.KWords() >= kMinDeepKWords && rows * ep.n >= kMinDeepOutputs;
      path = large ? GemmPath::kMmaDeep : GemmPath::kMma;
    }
  }
  const int vec = ChunkWords(run, a, w);
  using tiled::Deep;
  using tiled::Shallow;
  if (path == GemmPath::kMma) {
    packed ? LaunchTiled<Shallow, Source, true, true>(src, rows, w, ep, vec, stream)
           : LaunchTiled<Shallow, Source, false, true>(src, rows, w, ep, vec, stream);
  } else if (path == GemmPath::kMmaDeep) {
    packed ? LaunchTiled<Deep, Source, true, true>(src, rows, w, ep, vec, stream)
           : LaunchTiled<Deep, Source, false, true>(src, rows, w, ep, vec, stream);
  } else if (path == GemmPath::kPopc) {
    packed ? LaunchTiled<Shallow, Source, true, false>(src, rows, w, ep, vec, stream)
           : LaunchTiled<Shallow, Source, false, false>(src, rows, w, ep, vec, stream);
  } else {
    packed ? LaunchSimt<Source, true>(src, rows, w, ep, stream)
           : LaunchSimt<Source, false>(src, rows, w, ep, stream);
  }
  return cudaGetLastError();
}

}  // namespace
}  // namespace kb_cuda
