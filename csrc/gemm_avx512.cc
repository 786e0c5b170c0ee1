// AVX-512 VPOPCNTDQ micro-kernel: broadcast one 64-bit word of each A row against a panel of
// 8 B columns, so every accumulator lane is one output (no horizontal reductions).
#include "kb_common.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace kb {

namespace {

// Stores the kMr = 4 rows' counts of one panel column-major, counts[c * kNr + r]: the four
// rows of each column are one 128-bit store (a 4x8 transpose in unpacks). GCC 12 flags the
// _mm256_undefined_si256 inside _mm512_cvtepi64_epi32 as maybe-uninitialized (a false
// positive, as in SumLanes below).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) inline void StorePanelTransposed(const __m512i* rows,
                                                                   int32_t* counts) {
  static_assert(kMr == 4, "one 128-bit store per column holds kMr counts");
  const __m256i y0 = _mm512_cvtepi64_epi32(rows[0]), y1 = _mm512_cvtepi64_epi32(rows[1]);
  const __m256i y2 = _mm512_cvtepi64_epi32(rows[2]), y3 = _mm512_cvtepi64_epi32(rows[3]);
  const __m256i t0 = _mm256_unpacklo_epi32(y0, y1), t1 = _mm256_unpackhi_epi32(y0, y1);
  const __m256i t2 = _mm256_unpacklo_epi32(y2, y3), t3 = _mm256_unpackhi_epi32(y2, y3);
  // Column c in the low 128 bits of u[c], column c + 4 in the high ones.
  const __m256i u[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                        _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
  for (int c = 0; c < 4; ++c) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(counts + c * kNr), _mm256_castsi256_si128(u[c]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(counts + (c + 4) * kNr),
                     _mm256_extracti128_si256(u[c], 1));
  }
}
#pragma GCC diagnostic pop

}  // namespace

__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) void TileCountsAvx512(
    const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts, bool transposed) {
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
  if (transposed) {
    for (int p = 0; p < kPanelsPerTile; ++p) {
      const __m512i rows[kMr] = {acc[0][p], acc[1][p], acc[2][p], acc[3][p]};
      StorePanelTransposed(rows, counts + p * kPanel * kNr);
    }
    return;
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

// SumLanes inlined here draws GCC 12's -Wuninitialized on the same _mm256_undefined_* lanes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) int32_t TapSumAvx512(
    const uint32_t* w, int64_t words, int64_t channels, uint32_t last_mask) {
  __m512i acc = _mm512_setzero_si512();
  for (int64_t j = 0; j < words; j += 16) {
    const int64_t left = words - j;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff)
                                   : static_cast<__mmask16>((1u << left) - 1u);
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_maskz_loadu_epi32(m, w + j)));
  }
  const int64_t ones = SumLanes(acc) - __builtin_popcount(w[words - 1] & ~last_mask);
  return static_cast<int32_t>(channels - 2 * ones);
}
#pragma GCC diagnostic pop

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
void TileCountsAvx512(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts,
                      bool transposed) {
  TileCountsPortable(a, b, kw64, counts, transposed);
}
void RowCountsAvx512(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                     const uint32_t* mask, int32_t* counts) {
  RowCountsPortable(a, rows, b, cols, words, mask, counts);
}
}  // namespace kb
#endif
