// Binary GEMMs of a float input: pack it on the caller's threads while flagging the rows that
// hold a NaN, run the GEMM (with the transform's optional residual), then write NaN into the
// outputs of the flagged rows. One definition for the XLA handlers, the PyTorch C entry points
// and the ONNX Runtime ops.
#pragma once

#include <cstdint>

#include "gemm_driver.h"
#include "output_transform.h"
#include "row_sources.h"
#include "threading.h"

namespace kb {

// x [rows, k] floats against the packed w [t.n, ceil(k / 32)]; t.out_float must be set. A row
// holding a NaN gets NaN outputs.
void RunMatmulFloat(const float* x, int64_t rows, int64_t k, const uint32_t* w,
                    const OutputTransform& t, const Scheduler& sched);

// NHWC float x [g.batch, g.in_h, g.in_w, g.channels] convolved with the packed kernel
// [g.out_channels, g.k_h, g.k_w, g.words]; t.out_float must be set. A sample whose input holds
// a NaN gets NaN outputs.
void RunConv2dFloat(const float* x, const ConvGeometry& g, const uint32_t* kernel,
                    const OutputTransform& t, const Scheduler& sched);

}  // namespace kb
