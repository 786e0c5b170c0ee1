// Binary conv2d entry point (implicit GEMM over packed NHWC patches).
#include "launch.cuh"

namespace kb_cuda {

cudaError_t LaunchConv2d(const ConvPatches& patches, const uint32_t* w, const Epilogue& ep,
                         cudaStream_t stream) {
  return Launch(ConvView(patches), patches.rows, patches.cwords, patches.data, w, ep, stream);
}

}  // namespace kb_cuda
