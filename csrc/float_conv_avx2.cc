// The float conv micro-kernel on AVX2 + FMA: 3 pixels x 32 channels in 12 ymm accumulators.
// The template is included inside the target region so that its instantiations here are
// compiled for this ISA; the standard headers come first, outside it.
#include <algorithm>
#include <cstdint>

#include "float_conv.h"
#include "kb_common.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "float_conv_tile.h"

namespace kb {
namespace {

struct Avx2Lanes {
  using Reg = __m256;
  using Mask = __m256i;
  static constexpr int kLanes = 8;
  static constexpr int kRows = 3;
  static Reg Zero() { return _mm256_setzero_ps(); }
  static Mask Lanes(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg Load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static Reg Broadcast(float x) { return _mm256_set1_ps(x); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg Affine(Reg acc, Reg scale, Reg bias) {
    return _mm256_add_ps(_mm256_mul_ps(acc, scale), bias);
  }
  static void Store(float* p, Reg v, Mask m) { _mm256_maskstore_ps(p, m, v); }
};

}  // namespace

void FloatConvRowAvx2(const FloatConvRow& row) { float_conv::Row<Avx2Lanes>(row); }

}  // namespace kb
#pragma GCC pop_options
#else
namespace kb {
void FloatConvRowAvx2(const FloatConvRow& row) { FloatConvRowPortable(row); }
}  // namespace kb
#endif
