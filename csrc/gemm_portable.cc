// Portable (plain C++) popcount micro-kernel; reference for the SIMD versions.
#include <cstring>

#include "kb_common.h"

namespace kb {

void TileCountsPortable(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts,
                        bool transposed) {
  for (int r = 0; r < kMr; ++r) {
    const uint64_t* ar = a + r * kw64;
    for (int p = 0; p < kPanelsPerTile; ++p) {
      const uint64_t* bp = b + p * kw64 * kPanel;
      int64_t acc[kPanel] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int64_t k = 0; k < kw64; ++k) {
        const uint64_t av = ar[k];
        for (int c = 0; c < kPanel; ++c) acc[c] += __builtin_popcountll(av ^ bp[k * kPanel + c]);
      }
      for (int c = 0; c < kPanel; ++c) {
        const int64_t col = p * kPanel + c;
        counts[transposed ? col * kNr + r : r * kNr + col] = static_cast<int32_t>(acc[c]);
      }
    }
  }
}

namespace {

uint64_t Load64(const uint32_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Shared body of the scalar few-rows kernels; inlined into each, so the popcount builtin
// compiles to the instruction the caller's target allows.
__attribute__((always_inline)) inline void RowCountsScalar(const uint32_t* a, int rows,
                                                          const uint32_t* b, int cols,
                                                          int64_t words, const uint32_t* mask,
                                                          int32_t* counts) {
  const int64_t pairs = words / 2;
  for (int c = 0; c < cols; ++c) {
    const uint32_t* bc = b + c * words;
    for (int r = 0; r < rows; ++r) {
      const uint32_t* ar = a + r * words;
      int64_t acc = 0;
      for (int64_t j = 0; j < pairs; ++j) {
        acc += __builtin_popcountll((Load64(ar + 2 * j) ^ Load64(bc + 2 * j)) &
                                    Load64(mask + 2 * j));
      }
      if (words % 2) acc += __builtin_popcount((ar[words - 1] ^ bc[words - 1]) & mask[words - 1]);
      counts[r * kNr + c] = static_cast<int32_t>(acc);
    }
  }
}

}  // namespace

void RowCountsPortable(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                       const uint32_t* mask, int32_t* counts) {
  RowCountsScalar(a, rows, b, cols, words, mask, counts);
}

#if defined(__x86_64__)
// POPCNT is on every AVX2 / AVX-512 CPU; without it the builtin is a library call.
__attribute__((target("popcnt"))) void RowCountsPopcnt(const uint32_t* a, int rows,
                                                       const uint32_t* b, int cols,
                                                       int64_t words, const uint32_t* mask,
                                                       int32_t* counts) {
  RowCountsScalar(a, rows, b, cols, words, mask, counts);
}
#else
void RowCountsPopcnt(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                     const uint32_t* mask, int32_t* counts) {
  RowCountsScalar(a, rows, b, cols, words, mask, counts);
}
#endif

RowCountsFn SelectRowCountsFn(Isa isa) {
  switch (VectorIsa(isa)) {
    case Isa::kAvx512:
      return RowCountsAvx512;
    case Isa::kAvx2:
      return RowCountsPopcnt;
    default:
      return RowCountsPortable;
  }
}

TileFn SelectTileFn(Isa isa) {
  switch (VectorIsa(isa)) {
    case Isa::kAvx512:
      return TileCountsAvx512;
    case Isa::kAvx2:
      return TileCountsAvx2;
    default:
      return TileCountsPortable;
  }
}

}  // namespace kb
