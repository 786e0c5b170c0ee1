// The AVX-512 output transform's row loop, shared by ApplyAvx512 (from popcounts) and the AMX
// paths (from AMX dot products, without a separate pass turning them into popcounts).
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include "output_transform.h"

namespace kb {

// Rows [0, valid_rows) of a tile of kNr = 32 full channels at (m0, n0), n0 + kNr <= t.n:
// acc_of(r, h) gives row r's int32 accumulators K - 2 * popcount for channels n0 + 16h ..
// n0 + 16h + 15; then OutputTransform::Apply's corrections, y = float(acc) * scale + bias
// (+ residual; one multiply and one add each, no FMA: bit-exact with it), float and/or packed
// stores.
template <typename AccFn>
__attribute__((target("avx512f"))) inline void ApplyRowsAvx512(const OutputTransform& t,
                                                               int64_t m0, int valid_rows,
                                                               int64_t n0,
                                                               const int32_t* const* corr,
                                                               const AccFn& acc_of) {
  constexpr int kLanes = 16;
  const __m512 zero = _mm512_setzero_ps();
  __m512 scale[2], bias[2];
  for (int h = 0; h < 2; ++h) {
    scale[h] = _mm512_loadu_ps(t.scale + n0 + h * kLanes);
    bias[h] = _mm512_loadu_ps(t.bias + n0 + h * kLanes);
  }
  // The outputs' pointers and sizes in locals: the float stores could alias `t` as far as the
  // compiler knows, and it reloaded them after every store.
  const int64_t n = t.n;
  const int64_t nw = CeilDiv(n, 32);
  float* const out_float = t.out_float;
  uint32_t* const out_packed = t.out_packed;
  const float* const residual = t.residual;
  for (int r = 0; r < valid_rows; ++r) {
    const int64_t m = m0 + r;
    const int32_t* c = corr ? corr[r] : nullptr;
    __m512 y[2];
    for (int h = 0; h < 2; ++h) {
      __m512i acc = acc_of(r, h);
      if (c) acc = _mm512_sub_epi32(acc, _mm512_loadu_si512(c + n0 + h * kLanes));
      // maskz with a full mask is plain vcvtdq2ps (GCC 12 warns on the unmasked intrinsic).
      const __m512 accf = _mm512_maskz_cvtepi32_ps(0xffff, acc);
      y[h] = _mm512_add_ps(_mm512_mul_ps(accf, scale[h]), bias[h]);
      if (residual) y[h] = _mm512_add_ps(y[h], _mm512_loadu_ps(residual + m * n + n0 + h * kLanes));
    }
    if (out_float) {
      _mm512_storeu_ps(out_float + m * n + n0, y[0]);
      _mm512_storeu_ps(out_float + m * n + n0 + kLanes, y[1]);
    }
    if (out_packed) {
      out_packed[m * nw + n0 / 32] =
          static_cast<uint32_t>(_mm512_cmp_ps_mask(y[0], zero, _CMP_LT_OQ)) |
          (static_cast<uint32_t>(_mm512_cmp_ps_mask(y[1], zero, _CMP_LT_OQ)) << kLanes);
    }
  }
}

}  // namespace kb
#endif
