// Bit packing of float rows along the last axis: bit = (x < 0), K padded with zero bits.
#include <algorithm>
#include <cstring>
#include <limits>

#include "kb_common.h"
#include "threading.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kb {
namespace {

uint32_t PackWordPortable(const float* x, int n) {
  uint32_t w = 0;
  for (int b = 0; b < n; ++b) w |= static_cast<uint32_t>(x[b] < 0.0f) << b;
  return w;
}

bool AnyNaNPortable(const float* x, int64_t n) {
  bool any = false;
  for (int64_t i = 0; i < n; ++i) any |= x[i] != x[i];
  return any;
}

// Packs `full` whole words of one row; with kFlagNaN it also says, in the same pass, whether
// they hold a NaN (else it returns false).
using FullWordsFn = bool (*)(const float* x, int64_t full, uint32_t* out);

template <bool kFlagNaN>
bool FullWordsPortable(const float* x, int64_t full, uint32_t* out) {
  for (int64_t w = 0; w < full; ++w) out[w] = PackWordPortable(x + w * 32, 32);
  return kFlagNaN && AnyNaNPortable(x, full * 32);
}

#if defined(__x86_64__)
template <bool kFlagNaN>
__attribute__((target("avx512f"))) bool FullWordsAvx512(const float* x, int64_t full,
                                                        uint32_t* out) {
  const __m512 zero = _mm512_setzero_ps();
  __mmask16 nan = 0;
  for (int64_t w = 0; w < full; ++w) {
    const __m512 a = _mm512_loadu_ps(x + w * 32), b = _mm512_loadu_ps(x + w * 32 + 16);
    out[w] = static_cast<uint32_t>(_mm512_cmp_ps_mask(a, zero, _CMP_LT_OQ)) |
             (static_cast<uint32_t>(_mm512_cmp_ps_mask(b, zero, _CMP_LT_OQ)) << 16);
    if constexpr (kFlagNaN)
      nan |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
  }
  return nan != 0;
}

template <bool kFlagNaN>
__attribute__((target("avx2"))) bool FullWordsAvx2(const float* x, int64_t full, uint32_t* out) {
  const __m256 zero = _mm256_setzero_ps();
  __m256 found = zero;
  for (int64_t w = 0; w < full; ++w) {
    uint32_t word = 0;
    for (int q = 0; q < 4; ++q) {
      const __m256 v = _mm256_loadu_ps(x + w * 32 + q * 8);
      word |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_LT_OQ)))
              << (q * 8);
      if constexpr (kFlagNaN) found = _mm256_or_ps(found, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    out[w] = word;
  }
  return _mm256_movemask_ps(found) != 0;
}
#endif

template <bool kFlagNaN>
FullWordsFn SelectFullWords() {
#if defined(__x86_64__)
  switch (VectorIsa(ActiveIsa())) {
    case Isa::kAvx512:
      return FullWordsAvx512<kFlagNaN>;
    case Isa::kAvx2:
      return FullWordsAvx2<kFlagNaN>;
    default:
      break;
  }
#endif
  return FullWordsPortable<kFlagNaN>;
}

// The rows, the kernel chosen once per call: rows can be as short as one conv pixel's channels,
// where a call per row or a second NaN pass would dominate. The partial last word is packed
// portably. With kFlagNaN, nan[r] is 1 where row r holds a NaN.
template <bool kFlagNaN>
void PackRowsWith(const float* x, int64_t rows, int64_t k, uint32_t* out, uint8_t* nan) {
  const FullWordsFn full_words = SelectFullWords<kFlagNaN>();
  const int64_t kw = CeilDiv(k, 32);
  const int64_t full = k / 32;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * k;
    uint32_t* o = out + r * kw;
    bool any = full_words(xr, full, o);
    if (full < kw) {
      const int tail = static_cast<int>(k - full * 32);
      o[full] = PackWordPortable(xr + full * 32, tail);
      if constexpr (kFlagNaN) any |= AnyNaNPortable(xr + full * 32, tail);
    }
    if constexpr (kFlagNaN) nan[r] = any;
  }
}

}  // namespace

void PackRowsFlagNaN(const float* x, int64_t rows, int64_t k, uint32_t* out, uint8_t* nan) {
  PackRowsWith<true>(x, rows, k, out, nan);
}

void PackRowsOn(const Scheduler& sched, const float* x, int64_t rows, int64_t k, uint32_t* out,
                uint8_t* nan) {
  // Packing streams ~4 bytes in per bit out: below ~64K floats per chunk a thread's wake-up
  // costs more than its share of the pass.
  constexpr int64_t kMinFloatsPerChunk = int64_t{1} << 16;
  const int64_t kw = CeilDiv(k, 32);
  const int64_t chunks = std::max<int64_t>(
      1, std::min<int64_t>({rows, rows * k / kMinFloatsPerChunk, 4 * int64_t{sched.num_threads}}));
  ParallelFor(sched, chunks, [&](int64_t c) {
    const int64_t r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks;
    if (nan) {
      PackRowsFlagNaN(x + r0 * k, r1 - r0, k, out + r0 * kw, nan + r0);
    } else {
      PackRows(x + r0 * k, r1 - r0, k, out + r0 * kw);
    }
  });
}

void PackRows(const float* x, int64_t rows, int64_t k, uint32_t* out) {
  PackRowsWith<false>(x, rows, k, out, nullptr);
}

void FillNaNGroups(const uint8_t* nan, int64_t rows, int64_t rows_per_group,
                   int64_t outputs_per_group, float* out) {
  if (rows_per_group <= 0) return;
  for (int64_t g = 0; g < rows / rows_per_group; ++g) {
    const uint8_t* flags = nan + g * rows_per_group;
    if (std::find(flags, flags + rows_per_group, uint8_t{1}) != flags + rows_per_group)
      std::fill_n(out + g * outputs_per_group, outputs_per_group,
                  std::numeric_limits<float>::quiet_NaN());
  }
}

}  // namespace kb
