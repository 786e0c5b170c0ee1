// Portable (plain C++) popcount micro-kernel; reference for the SIMD versions.
#include "kb_common.h"

namespace kb {

void TileCountsPortable(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts) {
  for (int r = 0; r < kMr; ++r) {
    const uint64_t* ar = a + r * kw64;
    for (int p = 0; p < kPanelsPerTile; ++p) {
      const uint64_t* bp = b + p * kw64 * kPanel;
      int64_t acc[kPanel] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int64_t k = 0; k < kw64; ++k) {
        const uint64_t av = ar[k];
        for (int c = 0; c < kPanel; ++c) acc[c] += __builtin_popcountll(av ^ bp[k * kPanel + c]);
      }
      for (int c = 0; c < kPanel; ++c)
        counts[r * kNr + p * kPanel + c] = static_cast<int32_t>(acc[c]);
    }
  }
}

TileFn SelectTileFn(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return TileCountsAvx512;
    case Isa::kAvx2:
      return TileCountsAvx2;
    default:
      return TileCountsPortable;
  }
}

}  // namespace kb
