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

namespace {

// Sum of the 8 lanes. GCC 12 flags the _mm256_undefined_* inside its reduction sequence as
// maybe-uninitialized (a false positive: those lanes are never read).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) inline int64_t SumLanes(__m512i v) {
  return _mm512_reduce_add_epi64(v);
}
#pragma GCC diagnostic pop

// kRows rows of A against one B row, 16 words (512 bits) per step: (a ^ b) & mask is one
// ternary-logic op (0x28), so a step costs what the tile kernel's xor + popcount + add cost.
template <int kRows>
__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) void RowCountsAvx512Rows(
    const uint32_t* a, const uint32_t* b, int cols, int64_t words, const uint32_t* mask,
    int32_t* counts) {
  constexpr int kLanes = 16;
  const int64_t full = words / kLanes * kLanes;
  const __mmask16 tail = static_cast<__mmask16>((1u << (words - full)) - 1u);
  for (int c = 0; c < cols; ++c) {
    const uint32_t* bc = b + c * words;
    __m512i acc[kRows];
    for (int r = 0; r < kRows; ++r) acc[r] = _mm512_setzero_si512();
    for (int64_t j = 0; j < words; j += kLanes) {
      const __mmask16 m = j < full ? static_cast<__mmask16>(0xffff) : tail;
      const __m512i bv = _mm512_maskz_loadu_epi32(m, bc + j);
      const __m512i mv = _mm512_maskz_loadu_epi32(m, mask + j);
      for (int r = 0; r < kRows; ++r) {
        const __m512i av = _mm512_maskz_loadu_epi32(m, a + r * words + j);
        acc[r] = _mm512_add_epi64(
            acc[r], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(av, bv, mv, 0x28)));
      }
    }
    for (int r = 0; r < kRows; ++r)
      counts[r * kNr + c] = static_cast<int32_t>(SumLanes(acc[r]));
  }
}

}  // namespace

void RowCountsAvx512(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                     const uint32_t* mask, int32_t* counts) {
  static_assert(kMr == 4, "one instantiation per row count up to kMr");
  switch (rows) {
    case 1:
      return RowCountsAvx512Rows<1>(a, b, cols, words, mask, counts);
    case 2:
      return RowCountsAvx512Rows<2>(a, b, cols, words, mask, counts);
    case 3:
      return RowCountsAvx512Rows<3>(a, b, cols, words, mask, counts);
    default:
      return RowCountsAvx512Rows<4>(a, b, cols, words, mask, counts);
  }
}

}  // namespace kb
#else
namespace kb {
void TileCountsAvx512(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts) {
  TileCountsPortable(a, b, kw64, counts);
}
void RowCountsAvx512(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                     const uint32_t* mask, int32_t* counts) {
  RowCountsPortable(a, rows, b, cols, words, mask, counts);
}
}  // namespace kb
#endif
