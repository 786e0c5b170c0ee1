// Output transform (epilogue) of a binary GEMM tile: acc = K - 2 * popcount, then either
// y = acc * scale + bias (+ residual) (float32) or the packed sign of y (bit = y < 0), 32
// channels per word.
#pragma once

#include <cstdint>

#include "kb_common.h"

namespace kb {

struct OutputTransform {
  int64_t n = 0;                  // real number of output channels
  int64_t k = 0;                  // real reduction length in bits
  const float* scale = nullptr;   // [n]
  const float* bias = nullptr;    // [n]
  float* out_float = nullptr;     // [m, n], or nullptr
  uint32_t* out_packed = nullptr;  // [m, CeilDiv(n, 32)], or nullptr
  // [m, n] added to y after the bias (a residual block's shortcut), or nullptr: one float add,
  // as the separate add it replaces, so the sum is bit-exact with it.
  const float* residual = nullptr;

  // counts: [kMr][kNr] popcounts of the tile at (m0, n0); rows >= valid_rows are ignored.
  // corr: nullptr, or kMr pointers, each nullptr or [n] ints subtracted from acc of row m0 + r
  // (zero-padding correction). Plain C++, the reference for the vectorized versions below.
  void Apply(int64_t m0, int valid_rows, int64_t n0, const int32_t* counts,
             const int32_t* const* corr) const;
};

// OutputTransform::Apply with the ISA's vector instructions (bit-exact: same int32 acc, one
// float multiply and one add, no FMA). Tiles cut by the end of N use the plain version.
using EpilogueFn = void (*)(const OutputTransform& t, int64_t m0, int valid_rows, int64_t n0,
                            const int32_t* counts, const int32_t* const* corr);
void ApplyPortable(const OutputTransform& t, int64_t m0, int valid_rows, int64_t n0,
                   const int32_t* counts, const int32_t* const* corr);
void ApplyAvx2(const OutputTransform& t, int64_t m0, int valid_rows, int64_t n0,
               const int32_t* counts, const int32_t* const* corr);
void ApplyAvx512(const OutputTransform& t, int64_t m0, int valid_rows, int64_t n0,
                 const int32_t* counts, const int32_t* const* corr);
EpilogueFn SelectEpilogueFn(Isa isa);

}  // namespace kb
