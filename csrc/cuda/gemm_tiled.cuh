// Tiled binary GEMM: the 1-bit tensor cores (mma.m16n8k256 .b1 with AND + popcount) or, with
// the same tiles and output layout, AND + popc on the CUDA cores (kTensorCores = false).
//
// popcount(a ^ b) = popcount(a) + popcount(b) - 2 * popcount(a & b): the inner loop gives the
// last term; the row popcounts of both operands are summed while the tiles are staged, so the
// result is exact without the MMA's XOR form (emulated on some GPUs).
//
// Block tile 128 x 128 outputs; K advances kBKW words per stage through a ring of kStages
// shared buffers filled with cp.async (dynamic shared memory); 8 warps, each 64 x 32 outputs
// (4 x 4 MMA tiles). Shared rows are padded by 4 words so ldmatrix and the CUDA-core fragment
// loads hit distinct banks.
#pragma once

#include "sources.cuh"

namespace kb_cuda {
namespace tiled {

constexpr int kBM = 128, kBN = 128;  // outputs per block
constexpr int kThreads = 256;

// K words per stage and pipeline depth.
template <int kBKWords, int kDepth>
struct Config {
  static constexpr int kBKW = kBKWords;
  static constexpr int kStages = kDepth;
  static constexpr int kLd = kBKW + 4;  // padded shared row, in words
  static constexpr int kTileWords = (kBM + kBN) * kLd;
  static constexpr int kSharedBytes = kStages * kTileWords * 4;
};
using Shallow = Config<16, 2>;  // 40 KiB of shared memory
using Deep = Config<32, 3>;     // 108 KiB: longer K steps, one more stage in flight

template <int kBytes>
__device__ __forceinline__ void CpAsync(uint32_t* smem, const uint32_t* gmem, bool valid) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int src_size = valid ? kBytes : 0;  // 0: fill with zeros, read nothing
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(dst), "l"(gmem),
               "n"(kBytes), "r"(src_size));
}

__device__ __forceinline__ void CpAsyncCommit() { asm volatile("cp.async.commit_group;\n"); }

template <int kPending>
__device__ __forceinline__ void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

__device__ __forceinline__ void LdMatrixX4(const uint32_t* smem, uint32_t (&r)[4]) {
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void MmaAndPopc(int (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                           uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// One operand's share of a stage: kVec-word chunks, the same rows for a thread in every stage.
template <class Cfg, int kVec>
struct Stager {
  static constexpr int kLd = Cfg::kLd;
  static constexpr int kChunksPerRow = Cfg::kBKW / kVec;
  static constexpr int kPerThread = kBM * kChunksPerRow / kThreads;
  static constexpr int kRowStep = kThreads / kChunksPerRow;
  int row0;  // first tile row of this thread
  int col;   // word offset of this thread's chunks inside the stage
  int popcount[kPerThread];

  __device__ explicit Stager(int tid)
      : row0(tid / kChunksPerRow), col((tid % kChunksPerRow) * kVec) {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) popcount[i] = 0;
  }
  // Issues the copies; get(row, kk) gives the global words or nullptr (zeros). `any` is a
  // valid global address handed to the zero-filling copies, which read nothing.
  template <class Get>
  __device__ __forceinline__ void Load(uint32_t (*tile)[kLd], int64_t kk0, Get get,
                                       const uint32_t* any) {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int row = row0 + i * kRowStep;
      const uint32_t* g = get(row, kk0 + col);
      CpAsync<4 * kVec>(&tile[row][col], g ? g : any, g != nullptr);
    }
  }
  // After this thread's copies landed: clears bits beyond the valid ones, counts set bits.
  template <class Source>
  __device__ __forceinline__ void Finish(uint32_t (*tile)[kLd], int64_t kk0, const Source& src) {
    const uint32_t mask = src.Mask(kk0 + col + kVec - 1);
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      uint32_t* p = &tile[row0 + i * kRowStep][col];
      if (mask != 0xffffffffu) p[kVec - 1] &= mask;
#pragma unroll
      for (int v = 0; v < kVec; ++v) popcount[i] += __popc(p[v]);
    }
  }
  __device__ __forceinline__ void Flush(int* row_popcount) const {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) atomicAdd(&row_popcount[row0 + i * kRowStep], popcount[i]);
  }
};

// The tensor-core inner loop over one stage: per 8 words of K, ldmatrix loads the fragments
// (lanes 8q..8q+7 address the rows of matrix q) and 16 MMAs cover the warp's 64 x 32 outputs.
template <class Cfg>
__device__ __forceinline__ void MmaStage(const uint32_t (*a_tile)[Cfg::kLd],
                                         const uint32_t (*b_tile)[Cfg::kLd], int warp_m,
                                         int warp_n, int lane, int (&acc)[4][4][4]) {
  const int q = lane / 8, r8 = lane % 8;
#pragma unroll
  for (int ks = 0; ks < Cfg::kBKW / 8; ++ks) {
    uint32_t a[4][4], b[4][2];
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)  // a0..a3: rows +0/+8, words +0/+4
      LdMatrixX4(&a_tile[warp_m * 64 + mi * 16 + (q & 1) * 8 + r8][ks * 8 + (q >> 1) * 4], a[mi]);
#pragma unroll
    for (int np = 0; np < 2; ++np) {  // b0, b1 of column tiles 2 np and 2 np + 1
      uint32_t t[4];
      LdMatrixX4(&b_tile[warp_n * 32 + (2 * np + (q >> 1)) * 8 + r8][ks * 8 + (q & 1) * 4], t);
      b[2 * np][0] = t[0];
      b[2 * np][1] = t[1];
      b[2 * np + 1][0] = t[2];
      b[2 * np + 1][1] = t[3];
    }
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
      for (int ni = 0; ni < 4; ++ni) MmaAndPopc(acc[mi][ni], a[mi], b[ni][0], b[ni][1]);
  }
}

// The CUDA-core inner loop over one stage, filling the MMA's output layout: lane (g, t) owns
// rows 16 * mi + g + 8 * h and columns 8 * ni + 2 * t + e as acc[mi][ni][2 * h + e].
template <class Cfg>
__device__ __forceinline__ void PopcStage(const uint32_t (*a_tile)[Cfg::kLd],
                                          const uint32_t (*b_tile)[Cfg::kLd], int warp_m,
                                          int warp_n, int lane, int (&acc)[4][4][4]) {
  const int g = lane / 4, t = lane % 4;
#pragma unroll 4
  for (int kk = 0; kk < Cfg::kBKW; ++kk) {
    uint32_t a[8], b[8];
#pragma unroll
    for (int s = 0; s < 8; ++s) {
      a[s] = a_tile[warp_m * 64 + 8 * s + g][kk];                    // s = 2 * mi + h
      b[s] = b_tile[warp_n * 32 + 8 * (s / 2) + 2 * t + s % 2][kk];  // s = 2 * ni + e
    }
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
      for (int ni = 0; ni < 4; ++ni)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          acc[mi][ni][e] += __popc(a[2 * mi + e / 2] & b[2 * ni + e % 2]);
  }
}

template <class Cfg, class Source, int kVec, bool kPacked, bool kTensorCores>
__global__ void __launch_bounds__(kThreads)
    GemmTiledKernel(Source src, const uint32_t* __restrict__ w, Epilogue ep) {
  using Tile = uint32_t (*)[Cfg::kLd];
  extern __shared__ __align__(16) uint32_t shared_words[];
  __shared__ int a_popcount[kBM];
  __shared__ int b_popcount[kBN];
  auto a_tile = [&](int stage) {
    return reinterpret_cast<Tile>(shared_words + stage * Cfg::kTileWords);
  };
  auto b_tile = [&](int stage) {
    return reinterpret_cast<Tile>(shared_words + stage * Cfg::kTileWords + kBM * Cfg::kLd);
  };

  const int tid = threadIdx.x;
  const int lane = tid % 32, warp = tid / 32;
  const int warp_m = warp / 4, warp_n = warp % 4;  // 2 x 4 warps of 64 x 32 outputs
  const int64_t block_m = static_cast<int64_t>(blockIdx.x) * kBM;
  const int64_t block_n = static_cast<int64_t>(blockIdx.y) * kBN;
  const int64_t kwords = src.KWords();
  const int64_t n = ep.n;

  if (tid < kBM) a_popcount[tid] = 0;
  if (tid < kBN) b_popcount[tid] = 0;

  Stager<Cfg, kVec> a_stage(tid), b_stage(tid);
  auto a_get = [&](int row, int64_t kk) { return src.Chunk(block_m + row, kk); };
  auto b_get = [&](int row, int64_t kk) -> const uint32_t* {
    const int64_t c = block_n + row;
    return (c < n && kk < kwords) ? w + c * kwords + kk : nullptr;
  };
  const int64_t stages = CeilDiv(kwords, Cfg::kBKW);
  auto load = [&](int64_t s) {  // one commit group per call, empty past the last stage
    if (s < stages) {
      const int buf = static_cast<int>(s % Cfg::kStages);
      a_stage.Load(a_tile(buf), s * Cfg::kBKW, a_get, w);
      b_stage.Load(b_tile(buf), s * Cfg::kBKW, b_get, w);
    }
    CpAsyncCommit();
  };

  int acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0;

#pragma unroll
  for (int s = 0; s < Cfg::kStages - 1; ++s) load(s);
  for (int64_t s = 0; s < stages; ++s) {
    const int buf = static_cast<int>(s % Cfg::kStages);
    CpAsyncWait<Cfg::kStages - 2>();  // stage s has landed (this thread's copies)
    a_stage.Finish(a_tile(buf), s * Cfg::kBKW, src);
    b_stage.Finish(b_tile(buf), s * Cfg::kBKW, src);
    __syncthreads();  // stage s visible to all; stage s - 1's buffer free for refilling
    load(s + Cfg::kStages - 1);
    if constexpr (kTensorCores) {
      MmaStage<Cfg>(a_tile(buf), b_tile(buf), warp_m, warp_n, lane, acc);
    } else {
      PopcStage<Cfg>(a_tile(buf), b_tile(buf), warp_m, warp_n, lane, acc);
    }
  }
  CpAsyncWait<0>();
  a_stage.Flush(a_popcount);
  b_stage.Flush(b_popcount);
  __syncthreads();

  // Epilogue. Fragment element e of tile (mi, ni): row g (+8 for e >= 2), column 2t + (e & 1).
  const int g = lane / 4, t = lane % 4;
  const int k_bits = static_cast<int>(src.KBits());
  const int64_t out_words = CeilDiv(n, 32);
#pragma unroll
  for (int mi = 0; mi < 4; ++mi) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row_local = warp_m * 64 + mi * 16 + g + half * 8;
      const int64_t r = block_m + row_local;
      const bool row_live = r < src.Rows();
      const bool correct = row_live && src.NeedsCorrection(r);  // zero-padded window
      uint32_t bits = 0;
#pragma unroll
      for (int ni = 0; ni < 4; ++ni) {
        const int col_local = warp_n * 32 + ni * 8 + 2 * t;  // this lane's two columns
        const int64_t c = block_n + col_local;
        float y[2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          y[e] = 0.0f;
          if (!row_live || c + e >= n) continue;
          const int both = acc[mi][ni][half * 2 + e];
          const int mismatches = a_popcount[row_local] + b_popcount[col_local + e] - 2 * both;
          int value = k_bits - 2 * mismatches;
          if (correct) value -= src.PadCorrection(r, w + (c + e) * kwords);
          y[e] = Affine(value, ep, c + e);
        }
        if constexpr (kPacked) {
          bits |= static_cast<uint32_t>(row_live && c < n && y[0] < 0.0f) << (ni * 8 + 2 * t);
          bits |= static_cast<uint32_t>(row_live && c + 1 < n && y[1] < 0.0f)
                  << (ni * 8 + 2 * t + 1);
        } else if (row_live && c + 1 < n && n % 2 == 0) {  // r * n + c is even: 8-byte store
          *reinterpret_cast<float2*>(ep.out_float + r * n + c) = make_float2(y[0], y[1]);
        } else if (row_live) {
          if (c < n) ep.out_float[r * n + c] = y[0];
          if (c + 1 < n) ep.out_float[r * n + c + 1] = y[1];
        }
      }
      if constexpr (kPacked) {
        // The 32 columns of this warp form one output word, spread over the 4 lanes of a row.
        bits |= __shfl_xor_sync(0xffffffffu, bits, 1);
        bits |= __shfl_xor_sync(0xffffffffu, bits, 2);
        const int64_t word = (block_n + warp_n * 32) / 32;
        if (t == 0 && row_live && word < out_words) ep.out_packed[r * out_words + word] = bits;
      }
    }
  }
}

}  // namespace tiled
}  // namespace kb_cuda
