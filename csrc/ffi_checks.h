// Shape and attribute checks shared by the CPU and CUDA FFI handlers (same contract, same error
// messages), and the argument bindings both declare. Header-only; needs the XLA FFI headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace kb_ffi {

namespace ffi = xla::ffi;
using S32 = ffi::Buffer<ffi::DataType::S32>;
using F32 = ffi::Buffer<ffi::DataType::F32>;

inline int64_t WordsFor(int64_t bits) { return (bits + 31) / 32; }

inline std::string ShapeStr(ffi::Span<const int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// pack_bits: float [..., K] -> int32 [..., ceil(K / 32)]. Sets rows and k.
inline ffi::Error CheckPackBits(const F32& x, ffi::Span<const int64_t> od, int64_t* rows,
                                int64_t* k) {
  auto xd = x.dimensions();
  if (xd.size() < 1 || xd.size() != od.size())
    return ffi::Error::InvalidArgument("pack_bits: input and output ranks differ or are 0");
  *k = xd.back();
  if (od.back() != WordsFor(*k))
    return ffi::Error::InvalidArgument("pack_bits: output last dim must be ceil(K / 32), got " +
                                       ShapeStr(od) + " for input " + ShapeStr(xd));
  *rows = *k == 0 ? 0 : static_cast<int64_t>(x.element_count()) / *k;
  return ffi::Error::Success();
}

// One scale and one bias per output channel.
inline ffi::Error CheckEpilogue(int64_t n, const F32& scale, const F32& bias) {
  if (scale.element_count() != static_cast<size_t>(n) ||
      bias.element_count() != static_cast<size_t>(n))
    return ffi::Error::InvalidArgument("scale and bias must have one value per output channel (" +
                                       std::to_string(n) + ")");
  return ffi::Error::Success();
}

struct MatmulShape {
  int64_t rows, n, kwords;
};

// binary_matmul: x [..., kw], w [N, kw], output [..., N] (float) or [..., ceil(N / 32)].
inline ffi::Error CheckMatmulDims(ffi::Span<const int64_t> xd, ffi::Span<const int64_t> wd,
                                  const F32& scale, const F32& bias, int64_t k, bool float_out,
                                  ffi::Span<const int64_t> od, MatmulShape* s) {
  if (xd.size() < 1 || wd.size() != 2)
    return ffi::Error::InvalidArgument("binary_matmul: x must have rank >= 1 and w rank 2");
  const int64_t kw = WordsFor(k);
  if (k < 1 || xd.back() != kw || wd[1] != kw)
    return ffi::Error::InvalidArgument("binary_matmul: packed shapes " + ShapeStr(xd) + " and " +
                                       ShapeStr(wd) + " do not hold k=" + std::to_string(k) +
                                       " bits per row");
  const int64_t n = wd[0];
  if (od.size() != xd.size() || od.back() != (float_out ? n : WordsFor(n)))
    return ffi::Error::InvalidArgument("binary_matmul: unexpected output shape " + ShapeStr(od));
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < xd.size(); ++i) rows *= xd[i];
  *s = MatmulShape{rows, n, kw};
  return CheckEpilogue(n, scale, bias);
}

inline ffi::Error CheckMatmul(const S32& x, const S32& w, const F32& scale, const F32& bias,
                              int64_t k, bool float_out, ffi::Span<const int64_t> od,
                              MatmulShape* s) {
  return CheckMatmulDims(x.dimensions(), w.dimensions(), scale, bias, k, float_out, od, s);
}

// The conv2d attributes: the one list of them. The handlers decode the call's attribute
// dictionary into ConvAttrs by name (XLA_FFI_REGISTER_STRUCT_ATTR_DECODING below), so callers
// pass them as named attributes in any order; a missing or extra name fails the call.
#define KB_CONV_ATTRS(X)                                                              \
  X(channels) X(stride_h) X(stride_w) X(dilation_h) X(dilation_w) X(pad_top) X(pad_left) \
  X(zero_padding)

struct ConvAttrs {
#define KB_CONV_FIELD(name) int64_t name;
  KB_CONV_ATTRS(KB_CONV_FIELD)
#undef KB_CONV_FIELD
};

struct ConvShape {
  int64_t batch, in_h, in_w, words, k_h, k_w, out_channels, out_h, out_w;
};

// binary_conv2d: x [B, H, W, words], w [Cout, kh, kw, words], output [B, Ho, Wo, Cout or
// ceil(Cout / 32)].
inline ffi::Error CheckConv2d(ffi::Span<const int64_t> xd, ffi::Span<const int64_t> wd,
                              const F32& scale, const F32& bias, const ConvAttrs& a,
                              bool float_out, ffi::Span<const int64_t> od, ConvShape* s) {
  if (xd.size() != 4 || wd.size() != 4 || od.size() != 4)
    return ffi::Error::InvalidArgument("binary_conv2d: x, kernel and output must have rank 4");
  const int64_t words = WordsFor(a.channels);
  if (a.channels < 1 || xd[3] != words || wd[3] != words)
    return ffi::Error::InvalidArgument("binary_conv2d: packed input " + ShapeStr(xd) +
                                       " and kernel " + ShapeStr(wd) + " do not hold " +
                                       std::to_string(a.channels) + " channels");
  if (a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1)
    return ffi::Error::InvalidArgument("binary_conv2d: strides and dilations must be >= 1");
  if (od[0] != xd[0] || od[3] != (float_out ? wd[0] : WordsFor(wd[0])))
    return ffi::Error::InvalidArgument("binary_conv2d: unexpected output shape " + ShapeStr(od));
  *s = ConvShape{xd[0], xd[1], xd[2], words, wd[1], wd[2], wd[0], od[1], od[2]};
  return CheckEpilogue(wd[0], scale, bias);
}

// float_conv2d: x [B, H, W, channels], w [kh, kw, channels, Cout], output [B, Ho, Wo, Cout].
inline ffi::Error CheckFloatConv2d(ffi::Span<const int64_t> xd, ffi::Span<const int64_t> wd,
                                   const F32& scale, const F32& bias, const ConvAttrs& a,
                                   ffi::Span<const int64_t> od, ConvShape* s) {
  if (xd.size() != 4 || wd.size() != 4 || od.size() != 4)
    return ffi::Error::InvalidArgument("float_conv2d: x, kernel and output must have rank 4");
  if (a.channels < 1 || xd[3] != a.channels || wd[2] != a.channels)
    return ffi::Error::InvalidArgument("float_conv2d: input " + ShapeStr(xd) + " and kernel " +
                                       ShapeStr(wd) + " do not hold " +
                                       std::to_string(a.channels) + " channels");
  if (a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1)
    return ffi::Error::InvalidArgument("float_conv2d: strides and dilations must be >= 1");
  if (od[0] != xd[0] || od[3] != wd[3] || od[1] < 0 || od[2] < 0)
    return ffi::Error::InvalidArgument("float_conv2d: unexpected output shape " + ShapeStr(od));
  *s = ConvShape{xd[0], xd[1], xd[2], 0, wd[0], wd[1], wd[3], od[1], od[2]};
  return CheckEpilogue(wd[3], scale, bias);
}

// The packed dims of a float NHWC input of `channels` channels ([B, H, W, words]); an input of
// another rank or channel count gets dims CheckConv2d refuses with its message.
inline std::vector<int64_t> PackedConvDims(ffi::Span<const int64_t> xd, int64_t channels) {
  std::vector<int64_t> d(xd.begin(), xd.end());
  if (d.size() == 4) d[3] = d[3] == channels ? WordsFor(channels) : -1;
  return d;
}

// The optional residual of a *_float handler: absent, or an F32 of the output's dims.
inline ffi::Error GetResidual(const ffi::RemainingArgs& rest, ffi::Span<const int64_t> od,
                              const float** residual) {
  *residual = nullptr;
  if (rest.size() == 0) return ffi::Error::Success();
  auto r = rest.get<F32>(0);
  if (rest.size() > 1 || !r.has_value())
    return ffi::Error::InvalidArgument("expected at most one float32 residual operand");
  if (!(r->dimensions() == od))
    return ffi::Error::InvalidArgument("residual " + ShapeStr(r->dimensions()) +
                                       " must have the output's shape " + ShapeStr(od));
  *residual = r->typed_data();
  return ffi::Error::Success();
}

}  // namespace kb_ffi

// The operands every GEMM-shaped handler binds after its context: x, w, scale, bias -> RET.
#define KB_FFI_GEMM_OPERANDS(RET) \
  .Arg<kb_ffi::S32>().Arg<kb_ffi::S32>().Arg<kb_ffi::F32>().Arg<kb_ffi::F32>().Ret<RET>()

// Decoding of the attribute dictionary into kb_ffi::ConvAttrs, member by member in field order.
// KB_FFI_APPLY expands its arguments before the decoding macro splits them at the commas.
#define KB_CONV_MEMBER(name) , ::xla::ffi::StructMember<int64_t>(#name)
#define KB_FFI_APPLY(MACRO, ...) MACRO(__VA_ARGS__)
KB_FFI_APPLY(XLA_FFI_REGISTER_STRUCT_ATTR_DECODING,
             kb_ffi::ConvAttrs KB_CONV_ATTRS(KB_CONV_MEMBER));
#undef KB_FFI_APPLY
#undef KB_CONV_MEMBER
