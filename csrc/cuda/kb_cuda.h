// Shared declarations of the CUDA popcount kernels (JAX backend, XLA FFI platform "CUDA").
//
// Same contract as the CPU kernels (../kb_common.h): packed int32 words, bit 1 = -1, bit 0 = +1,
// bits beyond K ignored (masked), acc = K - 2 * popcount(x ^ w), then y = acc * scale + bias
// rounded like the float reference (no fused multiply-add), or the packed bits of y < 0.
// This header is plain C++ so the FFI handlers can be compiled by the host compiler.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#if defined(__CUDACC__)
#define KB_HOST_DEVICE __host__ __device__
#else
#define KB_HOST_DEVICE
#endif

namespace kb_cuda {

KB_HOST_DEVICE inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows of a packed matrix [rows, kwords] (row r, word kk at data[r * kwords + kk]).
struct MatrixRows {
  const uint32_t* data;
  int64_t rows;
  int64_t kwords;
  int64_t k_bits;
};

// Patches of a packed NHWC input [batch, in_h, in_w, cwords]; row r is output pixel
// (b, oy, ox) and word kk is (tap = kk / cwords, channel word kk % cwords), taps row-major over
// the (k_h, k_w) window, matching a packed kernel [out, k_h, k_w, cwords].
struct ConvPatches {
  const uint32_t* data;
  int64_t rows;  // batch * out_h * out_w
  int32_t in_h, in_w, cwords, channels;
  int32_t k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int32_t out_h, out_w;
  bool zero_padding;  // padded pixels are 0 (else +1, i.e. zero bits)
};

// y = acc * scale + bias for n outputs; exactly one of out_float / out_packed is set.
struct Epilogue {
  const float* scale;
  const float* bias;
  int64_t n;
  float* out_float;      // [rows, n]
  uint32_t* out_packed;  // [rows, ceil(n / 32)]
};

// kAuto: tensor cores from 64 rows up (kMmaDeep for long K and large outputs, else kMma),
// below that the per-output CUDA-core kernel. kMma: tensor cores, 16-word K steps, 2 stages;
// kMmaDeep: 32-word K steps, 3 stages. kPopc: the kMma
// tiles with AND + popc on the CUDA cores. kSimt: one lane per output.
enum class GemmPath : int { kAuto = 0, kMma = 1, kMmaDeep = 2, kPopc = 3, kSimt = 4 };
GemmPath ActiveGemmPath();
void SetGemmPath(GemmPath path);
const char* GemmPathName(GemmPath path);

cudaError_t LaunchPackBits(const float* x, int64_t rows, int64_t k, uint32_t* out,
                           cudaStream_t stream);
cudaError_t LaunchMatmul(const MatrixRows& rows, const uint32_t* w, const Epilogue& ep,
                         cudaStream_t stream);
cudaError_t LaunchConv2d(const ConvPatches& patches, const uint32_t* w, const Epilogue& ep,
                         cudaStream_t stream);

}  // namespace kb_cuda
