// RowSources feeding the GEMM driver: plain packed rows (matmul) and im2col patches (conv2d).
#pragma once

#include <cstdint>
#include <vector>

#include "gemm_driver.h"

namespace kb {

// Rows of a packed [m, words] matrix.
class MatrixRows : public RowSource {
 public:
  MatrixRows(const uint32_t* x, const RowLayout& layout) : x_(x), layout_(layout) {}
  void Fill(int64_t m0, int64_t rows, uint32_t* dst, int64_t dst_words) const override;
  const uint32_t* Direct(int64_t m0) const override;

 private:
  const uint32_t* x_;
  RowLayout layout_;
};

struct ConvGeometry {
  int64_t batch, in_h, in_w, words;  // input [batch, in_h, in_w, words]
  int64_t channels;                  // real input channels (bits per pixel)
  int64_t k_h, k_w, out_channels;    // kernel [out_channels, k_h, k_w, words]
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t out_h, out_w;
  bool zero_padding;  // false: padded pixels are +1 ("one" padding, no correction)

  RowLayout Layout() const { return RowLayout{k_h * k_w, words, channels}; }
  int64_t Rows() const { return batch * out_h * out_w; }
};

// im2col patches of a packed NHWC input; out-of-bounds taps read as +1 (zero bits), and with
// zero padding a per-row correction removes their contribution exactly.
class ConvPatches : public RowSource {
 public:
  ConvPatches(const uint32_t* x, const uint32_t* kernel, const ConvGeometry& g);
  void Fill(int64_t m0, int64_t rows, uint32_t* dst, int64_t dst_words) const override;
  bool Corrections(int64_t m0, int64_t rows, const int32_t** corr) const override;

 private:
  // With zero padding: the corrections, one per border class. An output row's class is that of
  // its row (which kernel rows fall outside the input) times that of its column; class 0 (every
  // tap inside) has none. Built once per call, so a row's correction is a lookup, whichever
  // work item asks for it.
  void BuildCorrections(const uint32_t* kernel);

  const uint32_t* x_;
  ConvGeometry g_;
  RowLayout layout_;
  std::vector<int32_t> y_class_;  // [out_h]: class of each output row
  std::vector<int32_t> x_class_;  // [out_w]: class of each output column
  int64_t x_classes_ = 0;
  // [y class][x class][out_channels]: sum over the taps outside of sum_c w[o, tap, c] in +-1.
  std::vector<int32_t> corrections_;
};

}  // namespace kb
