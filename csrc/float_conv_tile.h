// The float conv micro-kernel, written once over a vector type V and instantiated per ISA
// (float_conv.cc, float_conv_avx2.cc, float_conv_avx512.cc, each compiled for its target).
// A tile is R output pixels of one row times NV vectors of output channels, accumulated in
// registers over every tap and input channel: each kernel vector loaded serves R pixels.
#pragma once

#include <algorithm>
#include <cstdint>

#include "float_conv.h"
#include "kb_common.h"

namespace kb {
namespace float_conv {

// V provides: Reg, Mask, kLanes, kRows (pixels per full tile), Zero(), Lanes(n) (mask of the
// first n lanes), Load(p, mask) (zero in masked-off lanes), Broadcast(x), Fma(a, b, c),
// Affine(acc, scale, bias) (acc * scale + bias, rounded twice) and Store(p, v, mask).
template <class V, int R, int NV>
inline void Tile(const FloatConvRow& row, int64_t ox, int64_t c0, int64_t channels_left) {
  const ConvGeometry& g = *row.g;
  const int64_t c = g.channels, co = g.out_channels;
  typename V::Mask mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v)
    mask[v] = V::Lanes(static_cast<int>(
        std::clamp<int64_t>(channels_left - int64_t{v} * V::kLanes, 0, V::kLanes)));
  typename V::Reg acc[R][NV];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V::Zero();
  const int64_t pixel_step = g.stride_w * c;
  // With no horizontal dilation a kernel row's taps and channels are one contiguous run of
  // k_w * c values, in the band and in the kernel alike: one inner loop over all of them.
  const int64_t run = g.dilation_w == 1 ? g.k_w * c : c;
  const int64_t runs_per_row = g.dilation_w == 1 ? 1 : g.k_w;
  for (int64_t ky = 0; ky < g.k_h; ++ky) {
    for (int64_t kx = 0; kx < runs_per_row; ++kx) {
      const float* xs = row.band + (ky * row.band_w + kx * g.dilation_w + ox * g.stride_w) * c;
      const float* ws = row.w + (ky * g.k_w + kx) * c * co + c0;
      for (int64_t j = 0; j < run; ++j, ws += co) {
        typename V::Reg wv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) wv[v] = V::Load(ws + v * V::kLanes, mask[v]);
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r) {
          const typename V::Reg xb = V::Broadcast(xs[r * pixel_step + j]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[r][v] = V::Fma(xb, wv[v], acc[r][v]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const typename V::Reg s = V::Load(row.scale + c0 + v * V::kLanes, mask[v]);
    const typename V::Reg b = V::Load(row.bias + c0 + v * V::kLanes, mask[v]);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
      V::Store(row.out_row + (ox + r) * co + c0 + v * V::kLanes, V::Affine(acc[r][v], s, b),
               mask[v]);
  }
}

template <class V, int R>
inline void TileOfWidth(int nv, const FloatConvRow& row, int64_t ox, int64_t c0, int64_t left) {
  switch (nv) {
    case 1: Tile<V, R, 1>(row, ox, c0, left); break;
    case 2: Tile<V, R, 2>(row, ox, c0, left); break;
    case 3: Tile<V, R, 3>(row, ox, c0, left); break;
    default: Tile<V, R, 4>(row, ox, c0, left); break;
  }
}

// One output row: blocks of up to 4 vectors of channels, each swept by kRows-pixel tiles and
// one narrower tile for the pixels left over.
template <class V>
inline void Row(const FloatConvRow& row) {
  static_assert(V::kRows >= 1 && V::kRows <= 6, "tiles of 1 to 6 pixels are instantiated");
  const ConvGeometry& g = *row.g;
  constexpr int64_t kBlock = 4 * V::kLanes;
  for (int64_t c0 = 0; c0 < g.out_channels; c0 += kBlock) {
    const int64_t left = g.out_channels - c0;
    const int nv = static_cast<int>(CeilDiv(std::min(left, kBlock), V::kLanes));
    int64_t ox = 0;
    for (; ox + V::kRows <= g.out_w; ox += V::kRows)
      TileOfWidth<V, V::kRows>(nv, row, ox, c0, left);
    switch (g.out_w - ox) {
      case 0: break;
      case 1: TileOfWidth<V, 1>(nv, row, ox, c0, left); break;
      case 2: TileOfWidth<V, 2>(nv, row, ox, c0, left); break;
      case 3: TileOfWidth<V, 3>(nv, row, ox, c0, left); break;
      case 4: TileOfWidth<V, 4>(nv, row, ox, c0, left); break;
      default: TileOfWidth<V, 5>(nv, row, ox, c0, left); break;
    }
  }
}

}  // namespace float_conv
}  // namespace kb
