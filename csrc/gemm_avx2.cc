// AVX2 popcount micro-kernel: nibble lookup (pshufb) + sad, broadcast-A tiling.
#include "kb_common.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace kb {

__attribute__((target("avx2"))) static inline __m256i Popcnt64(__m256i v, __m256i lut,
                                                                 __m256i low) {
  const __m256i lo = _mm256_and_si256(v, low);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  const __m256i cnt = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
  return _mm256_sad_epu8(cnt, _mm256_setzero_si256());
}

__attribute__((target("avx2"))) void TileCountsAvx2(const uint64_t* a, const uint64_t* b,
                                                    int64_t kw64, int64_t* counts) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                       1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  for (int p = 0; p < kPanelsPerTile; ++p) {
    const uint64_t* bp = b + p * kw64 * kPanel;
    __m256i acc[kMr][2];
    for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int64_t k = 0; k < kw64; ++k) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + k * kPanel));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + k * kPanel + 4));
      for (int r = 0; r < kMr; ++r) {
        const __m256i av = _mm256_set1_epi64x(static_cast<long long>(a[r * kw64 + k]));
        acc[r][0] = _mm256_add_epi64(acc[r][0], Popcnt64(_mm256_xor_si256(av, b0), lut, low));
        acc[r][1] = _mm256_add_epi64(acc[r][1], Popcnt64(_mm256_xor_si256(av, b1), lut, low));
      }
    }
    for (int r = 0; r < kMr; ++r) {
      int64_t* out = counts + r * kNr + p * kPanel;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), acc[r][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4), acc[r][1]);
    }
  }
}

}  // namespace kb
#else
namespace kb {
void TileCountsAvx2(const uint64_t* a, const uint64_t* b, int64_t kw64, int64_t* counts) {
  TileCountsPortable(a, b, kw64, counts);
}
}  // namespace kb
#endif
