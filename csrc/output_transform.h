// Output transform (epilogue) of a binary GEMM tile: acc = K - 2 * popcount, then either
// y = acc * scale + bias (float32) or the packed sign of y (bit = y < 0), 32 channels per word.
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

  // counts: [kMr][kNr] popcounts of the tile at (m0, n0); rows >= valid_rows are ignored.
  // corr[r]: nullptr or [n] ints subtracted from acc of row m0 + r (zero-padding correction).
  void Apply(int64_t m0, int valid_rows, int64_t n0, const int64_t* counts,
             const int32_t* const* corr) const;
};

}  // namespace kb
