// The GEMM path shared by the launchers (KERAS_BINARY_CUDA_GEMM or kb_cuda_force_gemm).
#include <cstdlib>
#include <cstring>

#include "kb_cuda.h"

namespace kb_cuda {
namespace {

GemmPath PathFromEnv() {
  const char* env = std::getenv("KERAS_BINARY_CUDA_GEMM");
  if (env == nullptr || std::strcmp(env, "auto") == 0) return GemmPath::kAuto;
  if (std::strcmp(env, "mma") == 0) return GemmPath::kMma;
  if (std::strcmp(env, "mma_deep") == 0) return GemmPath::kMmaDeep;
  if (std::strcmp(env, "popc") == 0) return GemmPath::kPopc;
  if (std::strcmp(env, "simt") == 0) return GemmPath::kSimt;
  return GemmPath::kAuto;
}

GemmPath g_path = PathFromEnv();

}  // namespace

GemmPath ActiveGemmPath() { return g_path; }
void SetGemmPath(GemmPath path) { g_path = path; }
const char* GemmPathName(GemmPath path) {
  switch (path) {
    case GemmPath::kMma:
      return "mma";
    case GemmPath::kMmaDeep:
      return "mma_deep";
    case GemmPath::kPopc:
      return "popc";
    case GemmPath::kSimt:
      return "simt";
    default:
      return "auto";
  }
}

}  // namespace kb_cuda
