// Device-side views of the GEMM's left operand (matrix rows or conv patches) and its K layout.
#pragma once

#include "kb_cuda.h"

namespace kb_cuda {

// Valid bits of the last 32-bit word of a run of `bits` bits.
__host__ __device__ __forceinline__ uint32_t ValidBitsMask(int64_t bits) {
  const int r = static_cast<int>(bits % 32);
  return r == 0 ? 0xffffffffu : ((1u << r) - 1u);
}

struct MatrixView {
  MatrixRows m;
  uint32_t last_mask;  // valid bits of a row's last word

  __host__ explicit MatrixView(const MatrixRows& rows)
      : m(rows), last_mask(ValidBitsMask(rows.k_bits)) {}
  __device__ __forceinline__ int64_t Rows() const { return m.rows; }
  __host__ __device__ __forceinline__ int64_t KWords() const { return m.kwords; }
  __device__ __forceinline__ int64_t KBits() const { return m.k_bits; }
  // Words kk.. of row r (nullptr: zeros).
  __device__ __forceinline__ const uint32_t* Chunk(int64_t r, int64_t kk) const {
    return (r < m.rows && kk < m.kwords) ? m.data + r * m.kwords + kk : nullptr;
  }
  // Mask for word kk of any row (weights share the layout).
  __device__ __forceinline__ uint32_t Mask(int64_t kk) const {
    return kk == m.kwords - 1 ? last_mask : 0xffffffffu;
  }
  __device__ __forceinline__ bool NeedsCorrection(int64_t) const { return false; }
  __device__ __forceinline__ int PadCorrection(int64_t, const uint32_t*) const { return 0; }
};

struct ConvView {
  ConvPatches p;
  uint32_t last_mask;  // valid bits of a tap's last channel word
  int64_t kwords;

  __host__ explicit ConvView(const ConvPatches& patches)
      : p(patches),
        last_mask(ValidBitsMask(patches.channels)),
        kwords(static_cast<int64_t>(patches.k_h) * patches.k_w * patches.cwords) {}
  __device__ __forceinline__ int64_t Rows() const { return p.rows; }
  __host__ __device__ __forceinline__ int64_t KWords() const { return kwords; }
  __device__ __forceinline__ int64_t KBits() const {
    return static_cast<int64_t>(p.k_h) * p.k_w * p.channels;
  }
  __device__ __forceinline__ void Pixel(int64_t r, int64_t* b, int* oy, int* ox) const {
    const int hw = p.out_h * p.out_w;
    int rem;
    if (r <= 0x7fffffff) {  // 32-bit division: far cheaper than 64-bit on the GPU
      const unsigned r32 = static_cast<unsigned>(r);
      const unsigned b32 = r32 / static_cast<unsigned>(hw);
      *b = b32;
      rem = static_cast<int>(r32 - b32 * static_cast<unsigned>(hw));
    } else {
      *b = r / hw;
      rem = static_cast<int>(r - *b * hw);
    }
    *oy = rem / p.out_w;
    *ox = rem - *oy * p.out_w;
  }
  // Whether output pixel r has a window reaching into the padding (zero padding only).
  __device__ __forceinline__ bool NeedsCorrection(int64_t r) const {
    if (!p.zero_padding) return false;
    int64_t b;
    int oy, ox;
    Pixel(r, &b, &oy, &ox);
    const int iy0 = oy * p.stride_h - p.pad_top, ix0 = ox * p.stride_w - p.pad_left;
    return iy0 < 0 || iy0 + (p.k_h - 1) * p.dilation_h >= p.in_h || ix0 < 0 ||
           ix0 + (p.k_w - 1) * p.dilation_w >= p.in_w;
  }
  __device__ __forceinline__ const uint32_t* Chunk(int64_t r, int64_t kk) const {
    if (r >= p.rows || kk >= kwords) return nullptr;
    int64_t b;
    int oy, ox;
    Pixel(r, &b, &oy, &ox);
    const int k32 = static_cast<int>(kk);
    const int tap = k32 / p.cwords;
    const int c = k32 - tap * p.cwords;
    const int i = tap / p.k_w;
    const int j = tap - i * p.k_w;
    const int iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
    const int ix = ox * p.stride_w - p.pad_left + j * p.dilation_w;
    if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) return nullptr;
    return p.data + ((b * p.in_h + iy) * p.in_w + ix) * p.cwords + c;
  }
  __device__ __forceinline__ uint32_t Mask(int64_t kk) const {
    return (kk + 1) % p.cwords == 0 ? last_mask : 0xffffffffu;
  }
  // Padded taps were counted as +1 inputs (zero bits); with zero padding they must count 0:
  // returns the sum over padded taps of (channels - 2 * popcount(w_tap)) to subtract.
  // Callers skip it where NeedsCorrection(r) is false (interior pixels, "one" padding).
  __device__ __noinline__ int PadCorrection(int64_t r, const uint32_t* w_row) const {
    int64_t b;
    int oy, ox;
    Pixel(r, &b, &oy, &ox);
    int corr = 0;
    for (int i = 0; i < p.k_h; ++i) {
      const int iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
      for (int j = 0; j < p.k_w; ++j) {
        const int ix = ox * p.stride_w - p.pad_left + j * p.dilation_w;
        if (iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w) continue;
        const uint32_t* wt = w_row + static_cast<int64_t>(i * p.k_w + j) * p.cwords;
        int pc = 0;
        for (int c = 0; c < p.cwords; ++c)
          pc += __popc(c == p.cwords - 1 ? (wt[c] & last_mask) : wt[c]);
        corr += p.channels - 2 * pc;
      }
    }
    return corr;
  }
};

// y = acc * scale + bias, rounded step by step like the float reference.
__device__ __forceinline__ float Affine(int acc, const Epilogue& ep, int64_t c) {
  return __fadd_rn(__fmul_rn(static_cast<float>(acc), ep.scale[c]), ep.bias[c]);
}

}  // namespace kb_cuda
