#include "float_input.h"

#include <vector>

#include "kb_common.h"

namespace kb {

void RunMatmulFloat(const float* x, int64_t rows, int64_t k, const uint32_t* w,
                    const OutputTransform& t, const Scheduler& sched) {
  if (rows == 0) return;
  const RowLayout layout{1, CeilDiv(k, 32), k};
  std::vector<uint32_t> packed(static_cast<size_t>(rows * layout.words()));
  std::vector<uint8_t> nan(static_cast<size_t>(rows));
  PackRowsOn(sched, x, rows, k, packed.data(), nan.data());
  const MatrixRows source(packed.data(), layout);
  RunBinaryGemm(source, rows, w, layout, t, sched);
  FillNaNGroups(nan.data(), rows, 1, t.n, t.out_float);
}

void RunConv2dFloat(const float* x, const ConvGeometry& g, const uint32_t* kernel,
                    const OutputTransform& t, const Scheduler& sched) {
  if (g.Rows() == 0) return;
  const int64_t pixels = g.batch * g.in_h * g.in_w;
  std::vector<uint32_t> packed(static_cast<size_t>(pixels * g.words));
  std::vector<uint8_t> nan(static_cast<size_t>(pixels));
  PackRowsOn(sched, x, pixels, g.channels, packed.data(), nan.data());
  const ConvPatches patches(packed.data(), kernel, g);
  RunBinaryGemm(patches, g.Rows(), kernel, g.Layout(), t, sched);
  FillNaNGroups(nan.data(), pixels, g.in_h * g.in_w, g.out_h * g.out_w * g.out_channels,
                t.out_float);
}

}  // namespace kb
