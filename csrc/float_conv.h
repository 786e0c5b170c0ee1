// Float NHWC conv2d with a per-channel affine epilogue (a BatchNorm folded in at convert time),
// for the float convs of a converted model (Bi-Real's 7x7 stem): XLA runs that conv on one
// thread, this kernel on all of the caller's.
#pragma once

#include <cstdint>

#include "row_sources.h"
#include "threading.h"

namespace kb {

// One output row (sample n, output row oh) of a float conv. `band` is the zero-padded input
// the row reads: [k_h][band_w][channels], band row ky = input row oh * stride_h - pad_top +
// ky * dilation_h, band column 0 = input column -pad_left. `w` is the Keras kernel [k_h, k_w,
// channels, out_channels]; out_row is [out_w, out_channels] = acc * scale + bias.
struct FloatConvRow {
  const ConvGeometry* g;
  const float* band;
  int64_t band_w;
  const float* w;
  const float* scale;
  const float* bias;
  float* out_row;
};

using FloatConvRowFn = void (*)(const FloatConvRow& row);
void FloatConvRowPortable(const FloatConvRow& row);
void FloatConvRowAvx2(const FloatConvRow& row);
void FloatConvRowAvx512(const FloatConvRow& row);

// y = conv(x, w) * scale + bias for NHWC x [g.batch, g.in_h, g.in_w, g.channels] and the Keras
// kernel w [g.k_h, g.k_w, g.channels, g.out_channels]; out [g.batch, g.out_h, g.out_w,
// g.out_channels]. Padding is zero (g.zero_padding is not read); g.words is not read. Output
// rows are spread over the scheduler's threads.
void RunFloatConv2d(const float* x, const ConvGeometry& g, const float* w, const float* scale,
                    const float* bias, float* out, const Scheduler& sched);

}  // namespace kb
