// The float conv micro-kernel on AVX-512: 6 pixels x 64 channels in 24 zmm accumulators.
// The template is included inside the target region so that its instantiations here are
// compiled for this ISA; the standard headers come first, outside it.
#include <algorithm>
#include <cstdint>

#include "float_conv.h"
#include "kb_common.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f")
#include <immintrin.h>

#include "float_conv_tile.h"

namespace kb {
namespace {

struct Avx512Lanes {
  using Reg = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static constexpr int kRows = 6;
  static Reg Zero() { return _mm512_setzero_ps(); }
  static Mask Lanes(int n) { return static_cast<Mask>((1u << n) - 1u); }
  static Reg Load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static Reg Broadcast(float x) { return _mm512_set1_ps(x); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg Affine(Reg acc, Reg scale, Reg bias) {
    return _mm512_add_ps(_mm512_mul_ps(acc, scale), bias);
  }
  static void Store(float* p, Reg v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
};

}  // namespace

void FloatConvRowAvx512(const FloatConvRow& row) { float_conv::Row<Avx512Lanes>(row); }

}  // namespace kb
#pragma GCC pop_options
#else
namespace kb {
void FloatConvRowAvx512(const FloatConvRow& row) { FloatConvRowPortable(row); }
}  // namespace kb
#endif
