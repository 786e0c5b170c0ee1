#include "output_transform.h"

namespace kb {

void OutputTransform::Apply(int64_t m0, int valid_rows, int64_t n0, const int32_t* counts,
                            const int32_t* const* corr) const {
  const int cols = static_cast<int>(n - n0 < kNr ? n - n0 : kNr);
  const int64_t nw = CeilDiv(n, 32);
  for (int r = 0; r < valid_rows; ++r) {
    const int64_t m = m0 + r;
    const int32_t* cr = counts + r * kNr;
    const int32_t* c = corr ? corr[r] : nullptr;
    uint32_t word = 0;
    for (int j = 0; j < cols; ++j) {
      int64_t acc = k - 2 * static_cast<int64_t>(cr[j]);
      if (c) acc -= c[n0 + j];
      float y = static_cast<float>(acc) * scale[n0 + j] + bias[n0 + j];
      if (residual) y += residual[m * n + n0 + j];
      if (out_float) out_float[m * n + n0 + j] = y;
      word |= static_cast<uint32_t>(y < 0.0f) << j;
    }
    if (out_packed) out_packed[m * nw + n0 / 32] = word;
  }
}

void ApplyPortable(const OutputTransform& t, int64_t m0, int valid_rows, int64_t n0,
                   const int32_t* counts, const int32_t* const* corr) {
  t.Apply(m0, valid_rows, n0, counts, corr);
}

EpilogueFn SelectEpilogueFn(Isa isa) {
  switch (VectorIsa(isa)) {
    case Isa::kAvx512:
      return ApplyAvx512;
    case Isa::kAvx2:
      return ApplyAvx2;
    default:
      return ApplyPortable;
  }
}

}  // namespace kb
