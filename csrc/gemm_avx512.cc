// AVX-512 VPOPCNTDQ micro-kernel: broadcast one 64-bit word of each A row against a panel of
// 8 B columns, so every accumulator lane is one output (no horizontal reductions).
#include "kb_common.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace kb {

__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) void TileCountsAvx512(
    const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts) {
  __m512i acc[kMr][kPanelsPerTile];
  for (int r = 0; r < kMr; ++r)
    for (int p = 0; p < kPanelsPerTile; ++p) acc[r][p] = _mm512_setzero_si512();
  const int64_t ps = kw64 * kPanel;
  for (int64_t k = 0; k < kw64; ++k) {
    __m512i bv[kPanelsPerTile];
    for (int p = 0; p < kPanelsPerTile; ++p) bv[p] = _mm512_loadu_si512(b + p * ps + k * kPanel);
    for (int r = 0; r < kMr; ++r) {
      const __m512i av = _mm512_set1_epi64(static_cast<long long>(a[r * kw64 + k]));
      for (int p = 0; p < kPanelsPerTile; ++p)
        acc[r][p] = _mm512_add_epi64(acc[r][p], _mm512_popcnt_epi64(_mm512_xor_si512(av, bv[p])));
    }
  }
  for (int r = 0; r < kMr; ++r)
    for (int p = 0; p < kPanelsPerTile; ++p)
      _mm512_mask_cvtepi64_storeu_epi32(counts + r * kNr + p * kPanel, 0xff, acc[r][p]);
}

}  // namespace kb
#else
namespace kb {
void TileCountsAvx512(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts) {
  TileCountsPortable(a, b, kw64, counts);
}
}  // namespace kb
#endif
