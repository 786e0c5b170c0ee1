// XLA FFI typed handlers (built against the FFI API 0.2 headers from the TensorFlow wheel, so one
// library serves TF's embedded XLA and JAX), plus small C entry points used by the Python loader.
#include <cstring>
#include <string>

#include "gemm_driver.h"
#include "kb_common.h"
#include "row_sources.h"
#include "threading.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace kb {
namespace {

using S32 = ffi::Buffer<ffi::DataType::S32>;
using F32 = ffi::Buffer<ffi::DataType::F32>;

std::string ShapeStr(ffi::Span<const int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

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

ffi::Error PackBitsImpl(F32 x, ffi::Result<S32> out) {
  if (auto e = CheckIsa(); !e.success()) return e;
  auto xd = x.dimensions();
  auto od = out->dimensions();
  if (xd.size() < 1 || xd.size() != od.size())
    return ffi::Error::InvalidArgument("pack_bits: input and output ranks differ or are 0");
  const int64_t k = xd.back();
  if (od.back() != CeilDiv(k, 32))
    return ffi::Error::InvalidArgument("pack_bits: output last dim must be ceil(K / 32), got " +
                                       ShapeStr(od) + " for input " + ShapeStr(xd));
  if (k == 0) return ffi::Error::Success();
  PackRows(x.typed_data(), static_cast<int64_t>(x.element_count()) / k, k,
           reinterpret_cast<uint32_t*>(out->typed_data()));
  return ffi::Error::Success();
}

// Validates scale/bias and fills the common part of the output transform.
ffi::Error MakeTransform(int64_t n, int64_t k, F32 scale, F32 bias, OutputTransform* t) {
  if (scale.element_count() != static_cast<size_t>(n) ||
      bias.element_count() != static_cast<size_t>(n))
    return ffi::Error::InvalidArgument("scale and bias must have one value per output channel (" +
                                       std::to_string(n) + ")");
  t->n = n;
  t->k = k;
  t->scale = scale.typed_data();
  t->bias = bias.typed_data();
  return ffi::Error::Success();
}

ffi::Error BinaryMatmulImpl(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias, int64_t k,
                            float* out_f, uint32_t* out_p, ffi::Span<const int64_t> od) {
  if (auto e = CheckIsa(); !e.success()) return e;
  auto xd = x.dimensions();
  auto wd = w.dimensions();
  if (xd.size() < 1 || wd.size() != 2)
    return ffi::Error::InvalidArgument("binary_matmul: x must have rank >= 1 and w rank 2");
  const int64_t kw = CeilDiv(k, 32);
  if (k < 1 || xd.back() != kw || wd[1] != kw)
    return ffi::Error::InvalidArgument("binary_matmul: packed shapes " + ShapeStr(xd) + " and " +
                                       ShapeStr(wd) + " do not hold k=" + std::to_string(k) +
                                       " bits per row");
  const int64_t n = wd[0];
  const int64_t n_out = out_f ? n : CeilDiv(n, 32);
  if (od.size() != xd.size() || od.back() != n_out)
    return ffi::Error::InvalidArgument("binary_matmul: unexpected output shape " + ShapeStr(od));
  OutputTransform t;
  if (auto e = MakeTransform(n, k, scale, bias, &t); !e.success()) return e;
  t.out_float = out_f;
  t.out_packed = out_p;
  const int64_t m = static_cast<int64_t>(x.element_count()) / kw;
  RowLayout layout{1, kw, k};
  MatrixRows rows(reinterpret_cast<const uint32_t*>(x.typed_data()), layout);
  RunBinaryGemm(rows, m, reinterpret_cast<const uint32_t*>(w.typed_data()), layout, t,
                MakeScheduler(pool));
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

struct ConvAttrs {
  int64_t channels, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, zero_padding;
};

ffi::Error Conv2dImpl(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias, const ConvAttrs& a,
                      float* out_f, uint32_t* out_p, ffi::Span<const int64_t> od) {
  if (auto e = CheckIsa(); !e.success()) return e;
  auto xd = x.dimensions();
  auto wd = w.dimensions();
  if (xd.size() != 4 || wd.size() != 4 || od.size() != 4)
    return ffi::Error::InvalidArgument("binary_conv2d: x, kernel and output must have rank 4");
  const int64_t words = CeilDiv(a.channels, 32);
  if (a.channels < 1 || xd[3] != words || wd[3] != words)
    return ffi::Error::InvalidArgument("binary_conv2d: packed input " + ShapeStr(xd) +
                                       " and kernel " + ShapeStr(wd) + " do not hold " +
                                       std::to_string(a.channels) + " channels");
  if (a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1)
    return ffi::Error::InvalidArgument("binary_conv2d: strides and dilations must be >= 1");
  ConvGeometry g{xd[0], xd[1], xd[2], words, a.channels, wd[1], wd[2], wd[0],
                 a.stride_h, a.stride_w, a.dilation_h, a.dilation_w, a.pad_top, a.pad_left,
                 od[1], od[2], a.zero_padding != 0};
  const int64_t n_out = out_f ? g.out_channels : CeilDiv(g.out_channels, 32);
  if (od[0] != g.batch || od[3] != n_out)
    return ffi::Error::InvalidArgument("binary_conv2d: unexpected output shape " + ShapeStr(od));
  OutputTransform t;
  if (auto e = MakeTransform(g.out_channels, g.k_h * g.k_w * g.channels, scale, bias, &t);
      !e.success())
    return e;
  t.out_float = out_f;
  t.out_packed = out_p;
  const uint32_t* kernel = reinterpret_cast<const uint32_t*>(w.typed_data());
  ConvPatches patches(reinterpret_cast<const uint32_t*>(x.typed_data()), kernel, g);
  RunBinaryGemm(patches, g.Rows(), kernel, g.Layout(), t, MakeScheduler(pool));
  return ffi::Error::Success();
}

ffi::Error Conv2dF32(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias,
                     ffi::Result<F32> out, int64_t channels, int64_t stride_h, int64_t stride_w,
                     int64_t dilation_h, int64_t dilation_w, int64_t pad_top, int64_t pad_left,
                     int64_t zero_padding) {
  ConvAttrs a{channels, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left,
              zero_padding};
  return Conv2dImpl(pool, x, w, scale, bias, a, out->typed_data(), nullptr, out->dimensions());
}

ffi::Error Conv2dPacked(ffi::ThreadPool pool, S32 x, S32 w, F32 scale, F32 bias,
                        ffi::Result<S32> out, int64_t channels, int64_t stride_h,
                        int64_t stride_w, int64_t dilation_h, int64_t dilation_w,
                        int64_t pad_top, int64_t pad_left, int64_t zero_padding) {
  ConvAttrs a{channels, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left,
              zero_padding};
  return Conv2dImpl(pool, x, w, scale, bias, a, nullptr,
                    reinterpret_cast<uint32_t*>(out->typed_data()), out->dimensions());
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

#define KB_GEMM_BINDING(RET)                                                              \
  ffi::Ffi::Bind()                                                                        \
      .Ctx<ffi::ThreadPool>()                                                             \
      .Arg<kb::S32>()                                                                     \
      .Arg<kb::S32>()                                                                     \
      .Arg<kb::F32>()                                                                     \
      .Arg<kb::F32>()                                                                     \
      .Ret<RET>()

#define KB_CONV_ATTRS                                                                     \
  .Attr<int64_t>("channels")                                                              \
      .Attr<int64_t>("stride_h")                                                          \
      .Attr<int64_t>("stride_w")                                                          \
      .Attr<int64_t>("dilation_h")                                                        \
      .Attr<int64_t>("dilation_w")                                                        \
      .Attr<int64_t>("pad_top")                                                           \
      .Attr<int64_t>("pad_left")                                                          \
      .Attr<int64_t>("zero_padding")

XLA_FFI_DEFINE_HANDLER_SYMBOL(KbPackBits, kb::PackBitsImpl,
                                        ffi::Ffi::Bind().Arg<kb::F32>().Ret<kb::S32>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryMatmulF32, kb::MatmulF32,
                                        KB_GEMM_BINDING(kb::F32).Attr<int64_t>("k"));
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryMatmulPacked, kb::MatmulPacked,
                                        KB_GEMM_BINDING(kb::S32).Attr<int64_t>("k"));
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryConv2dF32, kb::Conv2dF32,
                                        KB_GEMM_BINDING(kb::F32) KB_CONV_ATTRS);
XLA_FFI_DEFINE_HANDLER_SYMBOL(KbBinaryConv2dPacked, kb::Conv2dPacked,
                                        KB_GEMM_BINDING(kb::S32) KB_CONV_ATTRS);
