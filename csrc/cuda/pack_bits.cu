// Bit packing on the GPU: one warp per output word, one float per lane, a ballot per word.
#include "kb_cuda.h"

namespace kb_cuda {
namespace {

__global__ void PackBitsKernel(const float* __restrict__ x, int64_t rows, int64_t k,
                               int64_t kwords, uint32_t* __restrict__ out) {
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= rows * kwords) return;  // whole warps leave together
  const int64_t row = warp / kwords;
  const int64_t idx = (warp - row * kwords) * 32 + lane;
  const bool negative = idx < k && x[row * k + idx] < 0.0f;
  const uint32_t bits = __ballot_sync(0xffffffffu, negative);
  if (lane == 0) out[warp] = bits;
}

}  // namespace

cudaError_t LaunchPackBits(const float* x, int64_t rows, int64_t k, uint32_t* out,
                           cudaStream_t stream) {
  const int64_t kwords = CeilDiv(k, 32);
  const int64_t warps = rows * kwords;
  if (warps == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  const int64_t blocks = CeilDiv(warps * 32, kThreads);
  PackBitsKernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, rows, k, kwords,
                                                                          out);
  return cudaGetLastError();
}

}  // namespace kb_cuda
