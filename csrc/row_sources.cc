#include "row_sources.h"

#include <algorithm>
#include <cstring>

namespace kb {

void MatrixRows::Fill(int64_t m0, int64_t rows, uint32_t* dst, int64_t dst_words) const {
  const int64_t words = layout_.words();
  const uint32_t last_mask = LastWordMask(layout_.seg_bits);
  for (int64_t r = 0; r < rows; ++r) {
    const uint32_t* src = x_ + (m0 + r) * words;
    uint32_t* d = dst + r * dst_words;
    std::memcpy(d, src, static_cast<size_t>(words) * sizeof(uint32_t));
    d[words - 1] &= last_mask;
  }
}

const uint32_t* MatrixRows::Direct(int64_t m0) const {
  const bool in_place =
      layout_.WholeWords64() && reinterpret_cast<uintptr_t>(x_) % alignof(uint64_t) == 0;
  return in_place ? x_ + m0 * layout_.words() : nullptr;
}

namespace {

// Sum over a kernel tap of w[o, tap, c] in +-1: channels - 2 * popcount, one tap of `words` words
// per call (the padding bits of the last word masked off).
int32_t TapSumPortable(const uint32_t* w, int64_t words, int64_t channels, uint32_t last_mask) {
  int64_t ones = 0;
  for (int64_t j = 0; j + 1 < words; ++j) ones += __builtin_popcount(w[j]);
  ones += __builtin_popcount(w[words - 1] & last_mask);
  return static_cast<int32_t>(channels - 2 * ones);
}

#if defined(__x86_64__)
// The same with the POPCNT instruction on 64-bit words (every AVX2/AVX-512 CPU has it); without
// it the builtin is a library call, which made this per-call setup cost more than the GEMM at
// 512 channels.
__attribute__((target("popcnt"))) int32_t TapSumPopcnt(const uint32_t* w, int64_t words,
                                                       int64_t channels, uint32_t last_mask) {
  int64_t ones = 0;
  int64_t j = 0;
  for (; j + 2 < words; j += 2) {
    uint64_t pair;
    std::memcpy(&pair, w + j, sizeof(pair));
    ones += __builtin_popcountll(pair);
  }
  for (; j + 1 < words; ++j) ones += __builtin_popcount(w[j]);
  ones += __builtin_popcount(w[words - 1] & last_mask);
  return static_cast<int32_t>(channels - 2 * ones);
}
#endif

}  // namespace

ConvPatches::ConvPatches(const uint32_t* x, const uint32_t* kernel, const ConvGeometry& g)
    : x_(x), g_(g), layout_(g.Layout()) {
  if (g_.zero_padding) BuildCorrections(kernel);
}

namespace {

// Numbers the distinct sets of kernel positions that fall outside [0, size) along one axis, for
// each output coordinate (first tap at coordinate * stride - pad): (*cls)[o] indexes the
// returned sets (as 0/1 flags per kernel position), set 0 being "none outside".
std::vector<std::vector<uint8_t>> BorderClasses(int64_t outputs, int64_t stride, int64_t pad,
                                                int64_t taps, int64_t dilation, int64_t size,
                                                std::vector<int32_t>* cls) {
  std::vector<std::vector<uint8_t>> sets = {std::vector<uint8_t>(static_cast<size_t>(taps), 0)};
  cls->resize(static_cast<size_t>(outputs));
  std::vector<uint8_t> outside(static_cast<size_t>(taps));
  for (int64_t o = 0; o < outputs; ++o) {
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t pos = o * stride - pad + t * dilation;
      outside[t] = pos < 0 || pos >= size;
    }
    auto it = std::find(sets.begin(), sets.end(), outside);
    (*cls)[o] = static_cast<int32_t>(it - sets.begin());
    if (it == sets.end()) sets.push_back(outside);
  }
  return sets;
}

}  // namespace

void ConvPatches::BuildCorrections(const uint32_t* kernel) {
  auto tap_sum = TapSumPortable;
#if defined(__x86_64__)
  const Isa isa = VectorIsa(ActiveIsa());
  if (isa == Isa::kAvx2) tap_sum = TapSumPopcnt;
  if (isa == Isa::kAvx512) tap_sum = TapSumAvx512;
#endif
  const std::vector<std::vector<uint8_t>> y_sets = BorderClasses(
      g_.out_h, g_.stride_h, g_.pad_top, g_.k_h, g_.dilation_h, g_.in_h, &y_class_);
  const std::vector<std::vector<uint8_t>> x_sets = BorderClasses(
      g_.out_w, g_.stride_w, g_.pad_left, g_.k_w, g_.dilation_w, g_.in_w, &x_class_);
  if (y_sets.size() == 1 && x_sets.size() == 1) return;  // no tap ever outside
  const int64_t n = g_.out_channels;
  const int64_t taps = g_.k_h * g_.k_w;
  const uint32_t last_mask = LastWordMask(g_.channels);
  // [tap][out_channels], for the taps that fall outside somewhere (e.g. 5 of 9 for a 3 x 3
  // stride-2 "same" conv of an even-sized input, whose padding is on one side).
  std::vector<uint8_t> needed(static_cast<size_t>(taps), 0);
  for (int64_t t = 0; t < taps; ++t) {
    for (const auto& ys : y_sets) needed[t] |= ys[t / g_.k_w];
    for (const auto& xs : x_sets) needed[t] |= xs[t % g_.k_w];
  }
  std::vector<int32_t> tap_sums(static_cast<size_t>(taps * n));
  for (int64_t o = 0; o < n; ++o) {
    for (int64_t t = 0; t < taps; ++t) {
      if (!needed[t]) continue;
      tap_sums[t * n + o] =
          tap_sum(kernel + (o * taps + t) * g_.words, g_.words, g_.channels, last_mask);
    }
  }
  x_classes_ = static_cast<int64_t>(x_sets.size());
  corrections_.assign(y_sets.size() * x_sets.size() * static_cast<size_t>(n), 0);
  for (size_t yc = 0; yc < y_sets.size(); ++yc) {
    for (size_t xc = 0; xc < x_sets.size(); ++xc) {
      int32_t* c = corrections_.data() + (yc * x_sets.size() + xc) * n;
      for (int64_t i = 0; i < g_.k_h; ++i) {
        for (int64_t j = 0; j < g_.k_w; ++j) {
          if (!y_sets[yc][i] && !x_sets[xc][j]) continue;
          const int32_t* s = tap_sums.data() + (i * g_.k_w + j) * n;
          for (int64_t o = 0; o < n; ++o) c[o] += s[o];
        }
      }
    }
  }
}

void ConvPatches::Fill(int64_t m0, int64_t rows, uint32_t* dst, int64_t dst_words) const {
  const int64_t words = g_.words;
  const int64_t tap_row_words = g_.k_w * words;
  const uint32_t last_mask = LastWordMask(g_.channels);
  // Output coordinates of row m0, then stepped along the rows (no divisions per row).
  int64_t b = m0 / (g_.out_h * g_.out_w);
  int64_t oy = (m0 / g_.out_w) % g_.out_h;
  int64_t ox = m0 % g_.out_w;
  for (int64_t r = 0; r < rows; ++r) {
    uint32_t* d = dst + r * dst_words;
    const int64_t x0 = ox * g_.stride_w - g_.pad_left;
    const bool inside_w = g_.dilation_w == 1 && x0 >= 0 && x0 + g_.k_w <= g_.in_w;
    for (int64_t i = 0; i < g_.k_h; ++i, d += tap_row_words) {
      const int64_t iy = oy * g_.stride_h - g_.pad_top + i * g_.dilation_h;
      if (iy < 0 || iy >= g_.in_h) {
        std::memset(d, 0, static_cast<size_t>(tap_row_words) * sizeof(uint32_t));
        continue;
      }
      const uint32_t* src_row = x_ + (b * g_.in_h + iy) * g_.in_w * words;
      if (inside_w) {  // adjacent taps inside the row: one contiguous run of pixels
        std::memcpy(d, src_row + x0 * words, static_cast<size_t>(tap_row_words) * 4);
      } else {
        for (int64_t j = 0; j < g_.k_w; ++j) {
          const int64_t ix = x0 + j * g_.dilation_w;
          if (ix < 0 || ix >= g_.in_w) {
            std::memset(d + j * words, 0, static_cast<size_t>(words) * sizeof(uint32_t));
          } else {
            std::memcpy(d + j * words, src_row + ix * words,
                        static_cast<size_t>(words) * sizeof(uint32_t));
          }
        }
      }
      if (last_mask != 0xffffffffu) {
        for (int64_t j = 0; j < g_.k_w; ++j) d[j * words + words - 1] &= last_mask;
      }
    }
    if (++ox == g_.out_w) {
      ox = 0;
      if (++oy == g_.out_h) {
        oy = 0;
        ++b;
      }
    }
  }
}

bool ConvPatches::Corrections(int64_t m0, int64_t rows, const int32_t** corr) const {
  if (corrections_.empty()) return RowSource::Corrections(m0, rows, corr);
  const int64_t n = g_.out_channels;
  // Output coordinates of row m0, then stepped along the rows (no divisions per row).
  int64_t oy = (m0 / g_.out_w) % g_.out_h;
  int64_t ox = m0 % g_.out_w;
  bool any = false;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t cls = y_class_[oy] * x_classes_ + x_class_[ox];
    corr[r] = cls == 0 ? nullptr : corrections_.data() + cls * n;
    any = any || cls != 0;
    if (++ox == g_.out_w) {
      ox = 0;
      if (++oy == g_.out_h) oy = 0;
    }
  }
  return any;
}

}  // namespace kb
