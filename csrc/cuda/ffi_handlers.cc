// XLA FFI typed handlers for platform "CUDA" (JAX), built against the same FFI API 0.2 headers
// as the CPU library. Shapes are validated here; the kernels run on XLA's stream.
#include <cuda_runtime_api.h>

#include <string>

#include "ffi_checks.h"
#include "kb_cuda.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace kb_cuda {
namespace {

using kb_ffi::ConvAttrs;
using kb_ffi::F32;
using kb_ffi::S32;

ffi::Error FromCuda(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return ffi::Error::Success();
  return ffi::Error::Internal(std::string(what) + ": " + cudaGetErrorString(err));
}

ffi::Error PackBits(cudaStream_t stream, F32 x, ffi::Result<S32> out) {
  int64_t rows = 0, k = 0;
  if (auto e = kb_ffi::CheckPackBits(x, out->dimensions(), &rows, &k); !e.success()) return e;
  if (rows == 0) return ffi::Error::Success();
  return FromCuda(LaunchPackBits(x.typed_data(), rows, k,
                                 reinterpret_cast<uint32_t*>(out->typed_data()), stream),
                  "pack_bits kernel launch");
}

ffi::Error Matmul(cudaStream_t stream, S32 x, S32 w, F32 scale, F32 bias, int64_t k,
                  float* out_f, uint32_t* out_p, ffi::Span<const int64_t> od) {
  kb_ffi::MatmulShape s{};
  if (auto e = kb_ffi::CheckMatmul(x, w, scale, bias, k, out_f != nullptr, od, &s);
      !e.success())
    return e;
  const Epilogue ep{scale.typed_data(), bias.typed_data(), s.n, out_f, out_p};
  const MatrixRows rows{reinterpret_cast<const uint32_t*>(x.typed_data()), s.rows, s.kwords, k};
  return FromCuda(LaunchMatmul(rows, reinterpret_cast<const uint32_t*>(w.typed_data()), ep,
                               stream),
                  "binary_matmul kernel launch");
}

ffi::Error MatmulF32(cudaStream_t stream, S32 x, S32 w, F32 scale, F32 bias,
                     ffi::Result<F32> out, int64_t k) {
  return Matmul(stream, x, w, scale, bias, k, out->typed_data(), nullptr, out->dimensions());
}

ffi::Error MatmulPacked(cudaStream_t stream, S32 x, S32 w, F32 scale, F32 bias,
                        ffi::Result<S32> out, int64_t k) {
  return Matmul(stream, x, w, scale, bias, k, nullptr,
                reinterpret_cast<uint32_t*>(out->typed_data()), out->dimensions());
}

ffi::Error Conv2d(cudaStream_t stream, S32 x, S32 w, F32 scale, F32 bias, const ConvAttrs& a,
                  float* out_f, uint32_t* out_p, ffi::Span<const int64_t> od) {
  kb_ffi::ConvShape s{};
  if (auto e = kb_ffi::CheckConv2d(x.dimensions(), w.dimensions(), scale, bias, a, out_f != nullptr, od,
                                     &s);
      !e.success())
    return e;
  const Epilogue ep{scale.typed_data(), bias.typed_data(), s.out_channels, out_f, out_p};
  const auto i32 = [](int64_t v) { return static_cast<int32_t>(v); };
  const ConvPatches patches{reinterpret_cast<const uint32_t*>(x.typed_data()),
                            s.batch * s.out_h * s.out_w,
                            i32(s.in_h), i32(s.in_w), i32(s.words), i32(a.channels),
                            i32(s.k_h), i32(s.k_w), i32(a.stride_h), i32(a.stride_w),
                            i32(a.dilation_h), i32(a.dilation_w), i32(a.pad_top),
                            i32(a.pad_left), i32(s.out_h), i32(s.out_w), a.zero_padding != 0};
  return FromCuda(LaunchConv2d(patches, reinterpret_cast<const uint32_t*>(w.typed_data()), ep,
                               stream),
                  "binary_conv2d kernel launch");
}

ffi::Error Conv2dF32(cudaStream_t stream, S32 x, S32 w, F32 scale, F32 bias,
                     ffi::Result<F32> out, ConvAttrs a) {
  return Conv2d(stream, x, w, scale, bias, a, out->typed_data(), nullptr, out->dimensions());
}

ffi::Error Conv2dPacked(cudaStream_t stream, S32 x, S32 w, F32 scale, F32 bias,
                        ffi::Result<S32> out, ConvAttrs a) {
  return Conv2d(stream, x, w, scale, bias, a, nullptr,
                reinterpret_cast<uint32_t*>(out->typed_data()), out->dimensions());
}

}  // namespace
}  // namespace kb_cuda

#define KB_EXPORT extern "C" __attribute__((visibility("default")))

KB_EXPORT XLA_FFI_Error* KbCudaPackBits(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbCudaBinaryMatmulF32(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbCudaBinaryMatmulPacked(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbCudaBinaryConv2dF32(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbCudaBinaryConv2dPacked(XLA_FFI_CallFrame* frame);

#define KB_CUDA_GEMM_BINDING(RET) \
  ffi::Ffi::Bind().Ctx<ffi::PlatformStream<cudaStream_t>>() KB_FFI_GEMM_OPERANDS(RET)

XLA_FFI_DEFINE_HANDLER_SYMBOL(KbCudaPackBits, kb_cuda::PackBits,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::PlatformStream<cudaStream_t>>()
                                  .Arg<kb_ffi::F32>()
                                  .Ret<kb_ffi::S32>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbCudaBinaryMatmulF32, kb_cuda::MatmulF32,
                              KB_CUDA_GEMM_BINDING(kb_ffi::F32).Attr<int64_t>("k"));
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbCudaBinaryMatmulPacked, kb_cuda::MatmulPacked,
                              KB_CUDA_GEMM_BINDING(kb_ffi::S32).Attr<int64_t>("k"));
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbCudaBinaryConv2dF32, kb_cuda::Conv2dF32,
                              KB_CUDA_GEMM_BINDING(kb_ffi::F32).Attrs<kb_ffi::ConvAttrs>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbCudaBinaryConv2dPacked, kb_cuda::Conv2dPacked,
                              KB_CUDA_GEMM_BINDING(kb_ffi::S32).Attrs<kb_ffi::ConvAttrs>());

// Plain C entry points for the Python loader (ctypes).
KB_EXPORT int kb_cuda_ffi_api_major() { return XLA_FFI_API_MAJOR; }
KB_EXPORT int kb_cuda_ffi_api_minor() { return XLA_FFI_API_MINOR; }
KB_EXPORT const char* kb_cuda_gemm_path() {
  return kb_cuda::GemmPathName(kb_cuda::ActiveGemmPath());
}
// Selects "auto", "mma" / "mma_deep" (tensor cores), "popc" (tiled, CUDA cores) or "simt"
// (one lane per output) for later calls; 0 if unknown.
KB_EXPORT int kb_cuda_force_gemm(const char* name) {
  const std::string s = name ? name : "";
  if (s == "auto") kb_cuda::SetGemmPath(kb_cuda::GemmPath::kAuto);
  else if (s == "mma") kb_cuda::SetGemmPath(kb_cuda::GemmPath::kMma);
  else if (s == "mma_deep") kb_cuda::SetGemmPath(kb_cuda::GemmPath::kMmaDeep);
  else if (s == "popc") kb_cuda::SetGemmPath(kb_cuda::GemmPath::kPopc);
  else if (s == "simt") kb_cuda::SetGemmPath(kb_cuda::GemmPath::kSimt);
  else return 0;
  return 1;
}
// CUDA runtime version the library was built with (e.g. 13000).
KB_EXPORT int kb_cuda_runtime_version() { return CUDART_VERSION; }
