// AVX2 popcount micro-kernel: nibble lookup (pshufb), broadcast-A tiling. Per-byte counts are
// summed in 8-bit lanes for up to kByteSteps words (8 bits each, so at most 248 < 256), then
// widened once with a sum of absolute differences: 8 vector ops per 256 bits instead of 9.
#include "kb_common.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace kb {
namespace {

constexpr int64_t kByteSteps = 31;

// Per-byte popcount of v (each byte 0..8).
__attribute__((target("avx2"))) inline __m256i PopcntBytes(__m256i v, __m256i lut, __m256i low) {
  const __m256i lo = _mm256_and_si256(v, low);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

// Sums each 64-bit lane's 8 byte counts into that lane.
__attribute__((target("avx2"))) inline __m256i WidenBytes(__m256i bytes) {
  return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

}  // namespace

__attribute__((target("avx2"))) void TileCountsAvx2(const uint64_t* a, const uint64_t* b,
                                                    int64_t kw64, int32_t* counts,
                                                    bool transposed) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                       1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  // Lanes of (lo | hi << 32) reordered to lo0..lo3, hi0..hi3: the panel's 8 columns in order.
  const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  for (int p = 0; p < kPanelsPerTile; ++p) {
    const uint64_t* bp = b + p * kw64 * kPanel;
    __m256i total[kMr][2];
    for (int r = 0; r < kMr; ++r) total[r][0] = total[r][1] = _mm256_setzero_si256();
    for (int64_t k0 = 0; k0 < kw64; k0 += kByteSteps) {
      const int64_t k1 = k0 + kByteSteps < kw64 ? k0 + kByteSteps : kw64;
      __m256i acc[kMr][2];
      for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
      for (int64_t k = k0; k < k1; ++k) {
        const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + k * kPanel));
        const __m256i b1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + k * kPanel + 4));
        for (int r = 0; r < kMr; ++r) {
          const __m256i av = _mm256_set1_epi64x(static_cast<long long>(a[r * kw64 + k]));
          acc[r][0] = _mm256_add_epi8(acc[r][0], PopcntBytes(_mm256_xor_si256(av, b0), lut, low));
          acc[r][1] = _mm256_add_epi8(acc[r][1], PopcntBytes(_mm256_xor_si256(av, b1), lut, low));
        }
      }
      for (int r = 0; r < kMr; ++r) {
        total[r][0] = _mm256_add_epi64(total[r][0], WidenBytes(acc[r][0]));
        total[r][1] = _mm256_add_epi64(total[r][1], WidenBytes(acc[r][1]));
      }
    }
    for (int r = 0; r < kMr; ++r) {
      // Counts fit in 32 bits: put columns 4..7 in the high halves, then reorder the lanes.
      const __m256i both = _mm256_permutevar8x32_epi32(
          _mm256_blend_epi32(total[r][0], _mm256_slli_epi64(total[r][1], 32), 0xaa), order);
      if (!transposed) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(counts + r * kNr + p * kPanel), both);
        continue;
      }
      alignas(32) int32_t lanes[kPanel];
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), both);
      for (int c = 0; c < kPanel; ++c) counts[(p * kPanel + c) * kNr + r] = lanes[c];
    }
  }
}

}  // namespace kb
#else
namespace kb {
void TileCountsAvx2(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts,
                    bool transposed) {
  TileCountsPortable(a, b, kw64, counts, transposed);
}
}  // namespace kb
#endif
