// Float conv driver: per output row, copy the input rows it reads into a zero-padded band (so
// the micro-kernel has no bounds checks), then run the ISA's row kernel.
#include <algorithm>
#include <cstring>
#include <vector>

#include "float_conv.h"
#include "float_conv_tile.h"

namespace kb {
namespace {

// Scalar lanes for CPUs without AVX2 (and other architectures).
struct ScalarLanes {
  using Reg = float;
  using Mask = bool;
  static constexpr int kLanes = 1;
  static constexpr int kRows = 4;
  static Reg Zero() { return 0.0f; }
  static Mask Lanes(int n) { return n > 0; }
  static Reg Load(const float* p, Mask m) { return m ? *p : 0.0f; }
  static Reg Broadcast(float x) { return x; }
  static Reg Fma(Reg a, Reg b, Reg c) { return a * b + c; }
  static Reg Affine(Reg acc, Reg scale, Reg bias) { return acc * scale + bias; }
  static void Store(float* p, Reg v, Mask m) {
    if (m) *p = v;
  }
};

FloatConvRowFn SelectRowFn(Isa isa) {
  switch (VectorIsa(isa)) {
    case Isa::kAvx512: return FloatConvRowAvx512;
#if defined(__x86_64__)
    case Isa::kAvx2:  // the AVX2 path's FMAs need the FMA extension beside AVX2
      return __builtin_cpu_supports("fma") ? FloatConvRowAvx2 : FloatConvRowPortable;
#endif
    default: return FloatConvRowPortable;
  }
}

// Fills band [k_h][band_w][c] for output row oh of sample n: input pixels where they exist,
// zeros where the window hangs over the border.
void FillBand(const float* x, const ConvGeometry& g, int64_t n, int64_t oh, int64_t band_w,
              float* band) {
  const int64_t c = g.channels;
  const int64_t col0 = -g.pad_left;  // input column of band column 0
  const int64_t first = std::max<int64_t>(0, -col0);
  const int64_t last = std::min<int64_t>(band_w, g.in_w - col0);  // exclusive
  for (int64_t ky = 0; ky < g.k_h; ++ky) {
    float* dst = band + ky * band_w * c;
    const int64_t iy = oh * g.stride_h - g.pad_top + ky * g.dilation_h;
    if (iy < 0 || iy >= g.in_h || last <= first) {
      std::memset(dst, 0, sizeof(float) * band_w * c);
      continue;
    }
    std::memset(dst, 0, sizeof(float) * first * c);
    std::memcpy(dst + first * c, x + ((n * g.in_h + iy) * g.in_w + col0 + first) * c,
                sizeof(float) * (last - first) * c);
    std::memset(dst + last * c, 0, sizeof(float) * (band_w - last) * c);
  }
}

}  // namespace

void FloatConvRowPortable(const FloatConvRow& row) { float_conv::Row<ScalarLanes>(row); }

void RunFloatConv2d(const float* x, const ConvGeometry& g, const float* w, const float* scale,
                    const float* bias, float* out, const Scheduler& sched) {
  if (g.batch * g.out_h * g.out_w * g.out_channels == 0) return;
  const FloatConvRowFn row_fn = SelectRowFn(ActiveIsa());
  const int64_t band_w = (g.out_w - 1) * g.stride_w + (g.k_w - 1) * g.dilation_w + 1;
  const int64_t band_size = g.k_h * band_w * g.channels;
  ParallelFor(sched, g.batch * g.out_h, [&](int64_t item) {
    thread_local std::vector<float> band;
    if (static_cast<int64_t>(band.size()) < band_size) band.resize(band_size);
    const int64_t n = item / g.out_h, oh = item % g.out_h;
    FillBand(x, g, n, oh, band_w, band.data());
    row_fn(FloatConvRow{&g, band.data(), band_w, w, scale, bias,
                        out + item * g.out_w * g.out_channels});
  });
}

}  // namespace kb
