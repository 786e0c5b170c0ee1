// Binary GEMM entry point (packed matrix rows).
#include "launch.cuh"

namespace kb_cuda {

cudaError_t LaunchMatmul(const MatrixRows& rows, const uint32_t* w, const Epilogue& ep,
                         cudaStream_t stream) {
  return Launch(MatrixView(rows), rows.rows, rows.kwords, rows.data, w, ep, stream);
}

}  // namespace kb_cuda
