// Vectorized output transforms (AVX-512: 16 channels per register, AVX2: 8). Each full tile row
// is kNr = 32 channels: acc = k - 2 * count - corr in int32, y = float(acc) * scale + bias
// (+ residual), then y is stored and/or its sign bits (y < 0) become one packed output word.
#include "output_transform.h"
#include "output_transform_avx512.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace kb {

namespace {

// acc = k - 2 * count for 16 channels of a popcount tile row.
struct AccFromCounts {
  const int32_t* counts;
  __m512i k;
  __attribute__((target("avx512f"))) __m512i operator()(int r, int h) const {
    const __m512i count = _mm512_loadu_si512(counts + r * kNr + h * 16);
    return _mm512_sub_epi32(k, _mm512_add_epi32(count, count));
  }
};

}  // namespace

__attribute__((target("avx512f"))) void ApplyAvx512(const OutputTransform& t, int64_t m0,
                                                    int valid_rows, int64_t n0,
                                                    const int32_t* counts,
                                                    const int32_t* const* corr) {
  if (t.n - n0 < kNr) return t.Apply(m0, valid_rows, n0, counts, corr);
  ApplyRowsAvx512(t, m0, valid_rows, n0, corr,
                  AccFromCounts{counts, _mm512_set1_epi32(static_cast<int>(t.k))});
}

__attribute__((target("avx2"))) void ApplyAvx2(const OutputTransform& t, int64_t m0,
                                               int valid_rows, int64_t n0, const int32_t* counts,
                                               const int32_t* const* corr) {
  if (t.n - n0 < kNr) return t.Apply(m0, valid_rows, n0, counts, corr);
  constexpr int kLanes = 8;
  constexpr int kParts = kNr / kLanes;
  const __m256i k = _mm256_set1_epi32(static_cast<int>(t.k));
  const __m256 zero = _mm256_setzero_ps();
  const int64_t nw = CeilDiv(t.n, 32);
  for (int r = 0; r < valid_rows; ++r) {
    const int64_t m = m0 + r;
    const int32_t* c = corr ? corr[r] : nullptr;
    uint32_t word = 0;
    for (int h = 0; h < kParts; ++h) {
      const int64_t j = n0 + h * kLanes;
      const __m256i count =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(counts + r * kNr + h * kLanes));
      __m256i acc = _mm256_sub_epi32(k, _mm256_add_epi32(count, count));
      if (c) acc = _mm256_sub_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + j)));
      __m256 y = _mm256_add_ps(
          _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(t.scale + j)),
          _mm256_loadu_ps(t.bias + j));
      if (t.residual) y = _mm256_add_ps(y, _mm256_loadu_ps(t.residual + m * t.n + j));
      if (t.out_float) _mm256_storeu_ps(t.out_float + m * t.n + j, y);
      word |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(y, zero, _CMP_LT_OQ)))
              << (h * kLanes);
    }
    if (t.out_packed) t.out_packed[m * nw + n0 / 32] = word;
  }
}

}  // namespace kb
#else
namespace kb {
void ApplyAvx512(const OutputTransform& t, int64_t m0, int valid_rows, int64_t n0,
                 const int32_t* counts, const int32_t* const* corr) {
  t.Apply(m0, valid_rows, n0, counts, corr);
}
void ApplyAvx2(const OutputTransform& t, int64_t m0, int valid_rows, int64_t n0,
               const int32_t* counts, const int32_t* const* corr) {
  t.Apply(m0, valid_rows, n0, counts, corr);
}
}  // namespace kb
#endif
