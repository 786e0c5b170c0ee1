#include "row_sources.h"

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
  if (!g_.zero_padding) return;
  auto tap_sum = TapSumPortable;
#if defined(__x86_64__)
  const Isa isa = VectorIsa(ActiveIsa());
  if (isa == Isa::kAvx2) tap_sum = TapSumPopcnt;
  if (isa == Isa::kAvx512) tap_sum = TapSumAvx512;
#endif
  const int64_t taps = g_.k_h * g_.k_w;
  const uint32_t last_mask = LastWordMask(g_.channels);
  tap_sums_.resize(static_cast<size_t>(taps * g_.out_channels));
  for (int64_t o = 0; o < g_.out_channels; ++o) {
    for (int64_t t = 0; t < taps; ++t) {
      tap_sums_[t * g_.out_channels + o] =
          tap_sum(kernel + (o * taps + t) * g_.words, g_.words, g_.channels, last_mask);
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

bool ConvPatches::Corrections(int64_t m0, int64_t rows, int32_t* scratch,
                              const int32_t** corr) const {
  if (!g_.zero_padding) return RowSource::Corrections(m0, rows, scratch, corr);
  // Output coordinates of row m0, then stepped along the rows (no divisions per row).
  int64_t oy = (m0 / g_.out_w) % g_.out_h;
  int64_t ox = m0 % g_.out_w;
  bool any = false;
  for (int64_t r = 0; r < rows; ++r) {
    corr[r] = CorrectionAt(oy * g_.stride_h - g_.pad_top, ox * g_.stride_w - g_.pad_left,
                           scratch + r * g_.out_channels);
    any = any || corr[r] != nullptr;
    if (++ox == g_.out_w) {
      ox = 0;
      if (++oy == g_.out_h) oy = 0;
    }
  }
  return any;
}

const int32_t* ConvPatches::CorrectionAt(int64_t y0, int64_t x0, int32_t* scratch) const {
  if (y0 >= 0 && y0 + (g_.k_h - 1) * g_.dilation_h < g_.in_h && x0 >= 0 &&
      x0 + (g_.k_w - 1) * g_.dilation_w < g_.in_w)
    return nullptr;  // every tap inside: the common case, decided without the tap loop
  const int64_t n = g_.out_channels;
  bool any = false;
  for (int64_t i = 0; i < g_.k_h; ++i) {
    const int64_t iy = y0 + i * g_.dilation_h;
    for (int64_t j = 0; j < g_.k_w; ++j) {
      const int64_t ix = x0 + j * g_.dilation_w;
      if (iy >= 0 && iy < g_.in_h && ix >= 0 && ix < g_.in_w) continue;
      if (!any) std::memset(scratch, 0, static_cast<size_t>(n) * sizeof(int32_t));
      any = true;
      const int32_t* s = tap_sums_.data() + (i * g_.k_w + j) * n;
      for (int64_t o = 0; o < n; ++o) scratch[o] += s[o];
    }
  }
  return any ? scratch : nullptr;
}

}  // namespace kb
