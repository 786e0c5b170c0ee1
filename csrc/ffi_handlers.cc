// XLA FFI typed handlers (built against the FFI API 0.2 headers from the TensorFlow wheel, so one
// library serves TF's embedded XLA and JAX), plus small C entry points used by the Python loader.
#include <functional>
#include <vector>

#include "ffi_checks.h"
#include "float_conv.h"
#include "float_input.h"
#include "gemm_driver.h"
#include "kb_common.h"
#include "row_sources.h"
#include "threading.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace kb {
namespace {

using kb_ffi::ConvAttrs;
using kb_ffi::F32;
using kb_ffi::S32;

Scheduler MakeScheduler(ffi::ThreadPool& pool) {
  Scheduler s;
  int64_t threads = pool.num_threads();
  if (MaxThreads() > 0 && MaxThreads() < threads) threads = MaxThreads();
  s.num_threads = static_cast<int>(threads < 1 ? 1 : threads);
  s.schedule = [&pool](std::function<void()> task) { pool.Schedule(std::move(task)); };
  return s;
}

ffi::Error CheckIsa() {
  if (*IsaError()) return ffi::Error::InvalidArgument(IsaError());
  return ffi::Error::Success();
}

ffi::Error PackBitsImpl(ffi::ThreadPool pool, F32 x, ffi::Result<S32> out) {
  if (auto e = CheckIsa(); !e.success()) return e;
  int64_t rows = 0, k = 0;
  if (auto e = kb_ffi::CheckPackBits(x, out->dimensions(), &rows, &k); !e.success()) return e;
  if (rows > 0)
    PackRowsOn(MakeScheduler(pool), x.typed_data(), rows, k,
               reinterpret_cast<uint32_t*>(out->typed_data()));
  return ffi::Error::Success();
}

OutputTransform MakeTransform(int64_t n, int64_t k, const F32& scale, const F32& bias,
                              float* out_f, uint32_t* out_p) {
  OutputTransform t;
  t.n = n;
  t.k = k;
  t.scale = scale.typed_data();
  t.bias = bias.typed_data();
  t.out_float = out_f;
  t.out_packed = out_p;
  return t;
}

ffi::Error BinaryMatmulImpl(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias, int64_t k,
                            float* out_f, uint32_t* out_p, ffi::Span<const int64_t> od) {
  if (auto e = CheckIsa(); !e.success()) return e;
  kb_ffi::MatmulShape s{};
  if (auto e = kb_ffi::CheckMatmul(x, w, scale, bias, k, out_f != nullptr, od, &s);
      !e.success())
    return e;
  RowLayout layout{1, s.kwords, k};
  MatrixRows rows(reinterpret_cast<const uint32_t*>(x.typed_data()), layout);
  RunBinaryGemm(rows, s.rows, reinterpret_cast<const uint32_t*>(w.typed_data()), layout,
                MakeTransform(s.n, k, scale, bias, out_f, out_p), MakeScheduler(pool));
  return ffi::Error::Success();
}

ffi::Error MatmulF32(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias,
                     ffi::Result<F32> out, int64_t k) {
  return BinaryMatmulImpl(pool, x, w, scale, bias, k, out->typed_data(), nullptr,
                          out->dimensions());
}

ffi::Error MatmulPacked(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias,
                        ffi::Result<S32> out, int64_t k) {
  return BinaryMatmulImpl(pool, x, w, scale, bias, k, nullptr,
                          reinterpret_cast<uint32_t*>(out->typed_data()), out->dimensions());
}

// The kernels' view of a checked conv: shapes from the operands, the rest from the attributes.
ConvGeometry Geometry(const kb_ffi::ConvShape& s, const ConvAttrs& a) {
  return ConvGeometry{s.batch, s.in_h, s.in_w, s.words, a.channels, s.k_h, s.k_w,
                      s.out_channels, a.stride_h, a.stride_w, a.dilation_h, a.dilation_w,
                      a.pad_top, a.pad_left, s.out_h, s.out_w, a.zero_padding != 0};
}

ffi::Error Conv2dImpl(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias, const ConvAttrs& a,
                      float* out_f, uint32_t* out_p, ffi::Span<const int64_t> od) {
  if (auto e = CheckIsa(); !e.success()) return e;
  kb_ffi::ConvShape s{};
  if (auto e = kb_ffi::CheckConv2d(x.dimensions(), w.dimensions(), scale, bias, a,
                                   out_f != nullptr, od, &s);
      !e.success())
    return e;
  const ConvGeometry g = Geometry(s, a);
  const uint32_t* kernel = reinterpret_cast<const uint32_t*>(w.typed_data());
  ConvPatches patches(reinterpret_cast<const uint32_t*>(x.typed_data()), kernel, g);
  RunBinaryGemm(patches, g.Rows(), kernel, g.Layout(),
                MakeTransform(g.out_channels, g.k_h * g.k_w * g.channels, scale, bias, out_f,
                              out_p),
                MakeScheduler(pool));
  return ffi::Error::Success();
}

ffi::Error Conv2dF32(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias,
                     ffi::Result<F32> out, ConvAttrs a) {
  return Conv2dImpl(pool, x, w, scale, bias, a, out->typed_data(), nullptr, out->dimensions());
}

ffi::Error Conv2dPacked(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias,
                        ffi::Result<S32> out, ConvAttrs a) {
  return Conv2dImpl(pool, x, w, scale, bias, a, nullptr,
                    reinterpret_cast<uint32_t*>(out->typed_data()), out->dimensions());
}

// binary_matmul_float: binary_matmul of a float input [..., k] packed here, NaN rows giving NaN
// outputs, plus the optional residual [..., N] added in the epilogue. One call instead of
// pack_bits, the NaN check around it and a residual add.
ffi::Error MatmulFloatF32(ffi::ThreadPool pool, F32 x, S32 w, F32 scale, F32 bias,
                          ffi::RemainingArgs rest, ffi::Result<F32> out, int64_t k) {
  if (auto e = CheckIsa(); !e.success()) return e;
  auto xd = x.dimensions();
  if (xd.size() < 1 || xd.back() != k)
    return ffi::Error::InvalidArgument("binary_matmul_float: input " + kb_ffi::ShapeStr(xd) +
                                       " must have k=" + std::to_string(k) + " values per row");
  std::vector<int64_t> packed_dims(xd.begin(), xd.end());
  packed_dims.back() = CeilDiv(k, 32);
  kb_ffi::MatmulShape s{};
  if (auto e = kb_ffi::CheckMatmulDims(packed_dims, w.dimensions(), scale, bias, k, true,
                                       out->dimensions(), &s);
      !e.success())
    return e;
  OutputTransform t = MakeTransform(s.n, k, scale, bias, out->typed_data(), nullptr);
  if (auto e = kb_ffi::GetResidual(rest, out->dimensions(), &t.residual); !e.success()) return e;
  RunMatmulFloat(x.typed_data(), s.rows, k, reinterpret_cast<const uint32_t*>(w.typed_data()), t,
                 MakeScheduler(pool));
  return ffi::Error::Success();
}

// binary_conv2d_float: binary_conv2d of a float NHWC input packed here, a sample whose input
// holds a NaN giving NaN outputs, plus the optional residual added in the epilogue.
ffi::Error Conv2dFloatF32(ffi::ThreadPool pool, F32 x, S32 w, F32 scale, F32 bias,
                          ffi::RemainingArgs rest, ffi::Result<F32> out, ConvAttrs a) {
  if (auto e = CheckIsa(); !e.success()) return e;
  kb_ffi::ConvShape s{};
  if (auto e = kb_ffi::CheckConv2d(kb_ffi::PackedConvDims(x.dimensions(), a.channels),
                                   w.dimensions(), scale, bias, a, true, out->dimensions(), &s);
      !e.success())
    return e;
  const ConvGeometry g = Geometry(s, a);
  OutputTransform t = MakeTransform(g.out_channels, g.k_h * g.k_w * a.channels, scale, bias,
                                    out->typed_data(), nullptr);
  if (auto e = kb_ffi::GetResidual(rest, out->dimensions(), &t.residual); !e.success()) return e;
  RunConv2dFloat(x.typed_data(), g, reinterpret_cast<const uint32_t*>(w.typed_data()), t,
                 MakeScheduler(pool));
  return ffi::Error::Success();
}

// float_conv2d: a float conv with the per-channel affine epilogue, on the pool's threads.
ffi::Error FloatConv2dF32(ffi::ThreadPool pool, F32 x, F32 w, F32 scale, F32 bias,
                          ffi::Result<F32> out, ConvAttrs a) {
  if (auto e = CheckIsa(); !e.success()) return e;
  kb_ffi::ConvShape s{};
  if (auto e = kb_ffi::CheckFloatConv2d(x.dimensions(), w.dimensions(), scale, bias, a,
                                        out->dimensions(), &s);
      !e.success())
    return e;
  RunFloatConv2d(x.typed_data(), Geometry(s, a), w.typed_data(), scale.typed_data(),
                 bias.typed_data(), out->typed_data(), MakeScheduler(pool));
  return ffi::Error::Success();
}

}  // namespace
}  // namespace kb

#define KB_EXPORT extern "C" __attribute__((visibility("default")))

// Declared first so the definitions below are exported despite -fvisibility=hidden.
KB_EXPORT XLA_FFI_Error* KbPackBits(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbBinaryMatmulF32(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbBinaryMatmulPacked(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbBinaryConv2dF32(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbBinaryConv2dPacked(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbBinaryMatmulFloatF32(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbBinaryConv2dFloatF32(XLA_FFI_CallFrame* frame);
KB_EXPORT XLA_FFI_Error* KbFloatConv2dF32(XLA_FFI_CallFrame* frame);

#define KB_GEMM_BINDING(RET) ffi::Ffi::Bind().Ctx<ffi::ThreadPool>() KB_FFI_GEMM_OPERANDS(RET)

XLA_FFI_DEFINE_HANDLER_SYMBOL(KbPackBits, kb::PackBitsImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<kb_ffi::F32>()
                                  .Ret<kb_ffi::S32>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryMatmulF32, kb::MatmulF32,
                                        KB_GEMM_BINDING(kb_ffi::F32).Attr<int64_t>("k"));
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryMatmulPacked, kb::MatmulPacked,
                                        KB_GEMM_BINDING(kb_ffi::S32).Attr<int64_t>("k"));
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryConv2dF32, kb::Conv2dF32,
                                        KB_GEMM_BINDING(kb_ffi::F32).Attrs<kb_ffi::ConvAttrs>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryConv2dPacked, kb::Conv2dPacked,
                                        KB_GEMM_BINDING(kb_ffi::S32).Attrs<kb_ffi::ConvAttrs>());

// The *_float handlers: x float, w, scale, bias, then an optional residual.
#define KB_FLOAT_INPUT_BINDING                                                               \
  ffi::Ffi::Bind()                                                                           \
      .Ctx<ffi::ThreadPool>()                                                                \
      .Arg<kb_ffi::F32>()                                                                    \
      .Arg<kb_ffi::S32>()                                                                    \
      .Arg<kb_ffi::F32>()                                                                    \
      .Arg<kb_ffi::F32>()                                                                    \
      .RemainingArgs()                                                                       \
      .Ret<kb_ffi::F32>()
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryMatmulFloatF32, kb::MatmulFloatF32,
                              KB_FLOAT_INPUT_BINDING.Attr<int64_t>("k"));
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryConv2dFloatF32, kb::Conv2dFloatF32,
                              KB_FLOAT_INPUT_BINDING.Attrs<kb_ffi::ConvAttrs>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbFloatConv2dF32, kb::FloatConv2dF32,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<kb_ffi::F32>()
                                  .Arg<kb_ffi::F32>()
                                  .Arg<kb_ffi::F32>()
                                  .Arg<kb_ffi::F32>()
                                  .Ret<kb_ffi::F32>()
                                  .Attrs<kb_ffi::ConvAttrs>());

// The conv2d attribute names, comma-separated, as the conv2d handlers decode them (tests check
// that the Python callers send these).
#define KB_CONV_NAME(name) "," #name
KB_EXPORT const char* kb_conv2d_attr_names() { return KB_CONV_ATTRS(KB_CONV_NAME) + 1; }
#undef KB_CONV_NAME
