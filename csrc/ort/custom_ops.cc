// ONNX Runtime custom ops of domain "ai.keras_binary", on the same kernels as the XLA handlers
// (gemm_driver.h, row_sources.h): PackBits, BinaryMatmul[Packed|Float],
// BinaryConv2d[Packed|Float] and PackedMaxPool2d. Built against ORT's C API headers with
// ORT_API_MANUAL_INIT, so the library does not link libonnxruntime: RegisterCustomOps takes the
// API from the loading runtime, which must offer at least the headers' API version. The GEMMs
// run on ORT's intra-op threads (KernelContext_ParallelFor, API 17+).
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "float_input.h"
#include "gemm_driver.h"
#include "kb_common.h"
#include "row_sources.h"
#include "threading.h"

#define ORT_API_MANUAL_INIT
#include "onnxruntime_cxx_api.h"
#undef ORT_API_MANUAL_INIT

namespace kb_ort {
namespace {

using kb::CeilDiv;

constexpr const char* kDomain = "ai.keras_binary";
constexpr ONNXTensorElementDataType kF32 = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
constexpr ONNXTensorElementDataType kS32 = ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;

// A kernel error: the op's name and the problem, raised as ORT_INVALID_ARGUMENT.
struct OpError {
  std::string message;
};

std::string ShapeStr(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

struct Input {
  std::vector<int64_t> dims;
  const void* data;
  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
};

Input GetInput(Ort::KernelContext& ctx, size_t index) {
  Ort::ConstValue v = ctx.GetInput(index);
  return Input{v.GetTensorTypeAndShapeInfo().GetShape(), v.GetTensorRawData()};
}

// Work split for ORT's pool: as many items as the machine has cores (capped like the XLA path
// by SetMaxThreads); ORT runs them on however many intra-op threads the session has.
kb::Scheduler MakeScheduler(OrtKernelContext* ctx) {
  kb::Scheduler s;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  if (kb::MaxThreads() > 0 && kb::MaxThreads() < threads) threads = kb::MaxThreads();
  s.num_threads = std::max(threads, 1);
  s.parallel_for = [ctx](int64_t items, const std::function<void(int64_t)>& fn) {
    auto run = [](void* data, size_t i) {
      (*static_cast<const std::function<void(int64_t)>*>(data))(static_cast<int64_t>(i));
    };
    Ort::ThrowOnError(Ort::GetApi().KernelContext_ParallelFor(
        ctx, run, static_cast<size_t>(items), 0,
        const_cast<void*>(static_cast<const void*>(&fn))));
  };
  return s;
}

void CheckEpilogue(const char* op, int64_t n, const Input& scale, const Input& bias) {
  if (scale.count() != n || bias.count() != n)
    throw OpError{std::string(op) + ": scale and bias must have one value per output channel (" +
                  std::to_string(n) + ")"};
}

kb::OutputTransform MakeTransform(int64_t n, int64_t k, const Input& scale, const Input& bias) {
  kb::OutputTransform t;
  t.n = n;
  t.k = k;
  t.scale = static_cast<const float*>(scale.data);
  t.bias = static_cast<const float*>(bias.data);
  return t;
}

// Points the transform at the output tensor, float [.., n] or packed int32 [.., ceil(n / 32)].
template <bool kPacked>
void SetOutput(Ort::KernelContext& ctx, std::vector<int64_t> dims, int64_t n,
               kb::OutputTransform* t) {
  dims.push_back(kPacked ? CeilDiv(n, 32) : n);
  Ort::UnownedValue out = ctx.GetOutput(0, dims);
  if (kPacked) {
    t->out_packed = reinterpret_cast<uint32_t*>(out.GetTensorMutableData<int32_t>());
  } else {
    t->out_float = out.GetTensorMutableData<float>();
  }
}

// PackBits: float [..., K] -> int32 [..., ceil(K / 32)], bit 1 where x < 0.
struct PackBitsKernel {
  static constexpr const char* kName = "PackBits";
  static constexpr std::array<ONNXTensorElementDataType, 1> kInputs{kF32};
  static constexpr ONNXTensorElementDataType kOutput = kS32;
  explicit PackBitsKernel(Ort::ConstKernelInfo) {}
  void Compute(Ort::KernelContext& ctx, OrtKernelContext* raw) const {
    Input x = GetInput(ctx, 0);
    if (x.dims.empty()) throw OpError{"PackBits: the input must have rank >= 1"};
    const int64_t k = x.dims.back();
    std::vector<int64_t> od(x.dims.begin(), x.dims.end() - 1);
    od.push_back(CeilDiv(k, 32));
    Ort::UnownedValue out = ctx.GetOutput(0, od);
    const int64_t rows = k == 0 ? 0 : x.count() / k;
    if (rows > 0)
      kb::PackRowsOn(MakeScheduler(raw), static_cast<const float*>(x.data), rows, k,
                     reinterpret_cast<uint32_t*>(out.GetTensorMutableData<int32_t>()));
  }
};

// The optional residual input `index` of a *Float op: when given, it must have the output's
// shape `dims`, and the epilogue adds it.
void SetResidual(Ort::KernelContext& ctx, size_t index, const std::string& op,
                 const std::vector<int64_t>& dims, kb::OutputTransform* t) {
  if (ctx.GetInputCount() <= index || !ctx.GetInput(index)) return;
  Input residual = GetInput(ctx, index);
  if (residual.dims != dims)
    throw OpError{op + ": residual " + ShapeStr(residual.dims) + " must have the output's shape " +
                  ShapeStr(dims)};
  t->residual = static_cast<const float*>(residual.data);
}

// The binary GEMM of the matmul ops: `rows` packed rows of k bits against the packed kernel w.
void RunMatmul(const uint32_t* x, int64_t rows, const Input& w, int64_t k,
               const kb::OutputTransform& t, const kb::Scheduler& sched) {
  if (rows == 0) return;
  kb::RowLayout layout{1, CeilDiv(k, 32), k};
  kb::MatrixRows source(x, layout);
  kb::RunBinaryGemm(source, rows, static_cast<const uint32_t*>(w.data), layout, t, sched);
}

// BinaryMatmul(x int32 [..., kw], w int32 [N, kw], scale [N], bias [N]), attribute k (bits):
// y = (k - 2 * popcount(x ^ w)) * scale + bias, float [..., N] or its packed signs.
template <bool kPacked>
struct BinaryMatmulKernel {
  static constexpr const char* kName = kPacked ? "BinaryMatmulPacked" : "BinaryMatmul";
  static constexpr std::array<ONNXTensorElementDataType, 4> kInputs{kS32, kS32, kF32, kF32};
  static constexpr ONNXTensorElementDataType kOutput = kPacked ? kS32 : kF32;
  int64_t k;
  explicit BinaryMatmulKernel(Ort::ConstKernelInfo info)
      : k(info.GetAttribute<int64_t>("k")) {}
  void Compute(Ort::KernelContext& ctx, OrtKernelContext* raw) const {
    Input x = GetInput(ctx, 0), w = GetInput(ctx, 1), scale = GetInput(ctx, 2),
          bias = GetInput(ctx, 3);
    const int64_t kw = CeilDiv(k, 32);
    if (k < 1 || x.dims.empty() || w.dims.size() != 2 || x.dims.back() != kw || w.dims[1] != kw)
      throw OpError{std::string(kName) + ": packed shapes " + ShapeStr(x.dims) + " and " +
                    ShapeStr(w.dims) + " do not hold k=" + std::to_string(k) + " bits per row"};
    const int64_t n = w.dims[0];
    CheckEpilogue(kName, n, scale, bias);
    kb::OutputTransform t = MakeTransform(n, k, scale, bias);
    SetOutput<kPacked>(ctx, std::vector<int64_t>(x.dims.begin(), x.dims.end() - 1), n, &t);
    RunMatmul(static_cast<const uint32_t*>(x.data), x.count() / kw, w, k, t, MakeScheduler(raw));
  }
};

// BinaryMatmulFloat(x float [..., k], w int32 [N, kw], scale, bias[, residual float [..., N]]),
// attribute k: BinaryMatmul that packs its float input itself (on ORT's threads), adds the
// optional residual in the epilogue and gives a row whose input holds a NaN NaN outputs. One
// op instead of PackBits and the NaN check (IsNaN, ReduceMax, Where).
struct BinaryMatmulFloatKernel {
  static constexpr const char* kName = "BinaryMatmulFloat";
  static constexpr std::array<ONNXTensorElementDataType, 5> kInputs{kF32, kS32, kF32, kF32,
                                                                    kF32};
  static constexpr size_t kRequired = 4;
  static constexpr ONNXTensorElementDataType kOutput = kF32;
  int64_t k;
  explicit BinaryMatmulFloatKernel(Ort::ConstKernelInfo info)
      : k(info.GetAttribute<int64_t>("k")) {}
  void Compute(Ort::KernelContext& ctx, OrtKernelContext* raw) const {
    Input x = GetInput(ctx, 0), w = GetInput(ctx, 1), scale = GetInput(ctx, 2),
          bias = GetInput(ctx, 3);
    const int64_t kw = CeilDiv(k, 32);
    if (k < 1 || x.dims.empty() || w.dims.size() != 2 || x.dims.back() != k || w.dims[1] != kw)
      throw OpError{std::string(kName) + ": input " + ShapeStr(x.dims) + " and packed kernel " +
                    ShapeStr(w.dims) + " do not hold k=" + std::to_string(k) + " values per row"};
    const int64_t n = w.dims[0];
    CheckEpilogue(kName, n, scale, bias);
    kb::OutputTransform t = MakeTransform(n, k, scale, bias);
    std::vector<int64_t> dims(x.dims.begin(), x.dims.end() - 1);
    SetOutput<false>(ctx, dims, n, &t);
    dims.push_back(n);
    SetResidual(ctx, 4, kName, dims, &t);
    kb::RunMatmulFloat(static_cast<const float*>(x.data), x.count() / k, k,
                       static_cast<const uint32_t*>(w.data), t, MakeScheduler(raw));
  }
};

// The attributes of the conv ops: channels, strides, dilations, explicit pads (TensorFlow's
// "same" split) and zero_padding (1: padded pixels are 0, else +1).
struct ConvAttributes {
  int64_t channels, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_bottom, pad_left,
      pad_right, zero_padding;
  ConvAttributes(Ort::ConstKernelInfo info, const char* op)
      : channels(info.GetAttribute<int64_t>("channels")),
        stride_h(info.GetAttribute<int64_t>("stride_h")),
        stride_w(info.GetAttribute<int64_t>("stride_w")),
        dilation_h(info.GetAttribute<int64_t>("dilation_h")),
        dilation_w(info.GetAttribute<int64_t>("dilation_w")),
        pad_top(info.GetAttribute<int64_t>("pad_top")),
        pad_bottom(info.GetAttribute<int64_t>("pad_bottom")),
        pad_left(info.GetAttribute<int64_t>("pad_left")),
        pad_right(info.GetAttribute<int64_t>("pad_right")),
        zero_padding(info.GetAttribute<int64_t>("zero_padding")) {
    if (stride_h < 1 || stride_w < 1 || dilation_h < 1 || dilation_w < 1 || pad_top < 0 ||
        pad_bottom < 0 || pad_left < 0 || pad_right < 0 || channels < 1)
      throw OpError{std::string(op) +
                    ": channels, strides and dilations must be >= 1 and pads >= 0"};
  }

  // The geometry of a packed input [B, H, W, words] and kernel [Cout, kh, kw, words]; `x_dims`
  // is the input as the op received it (float channels or packed words), for the messages.
  kb::ConvGeometry Geometry(const char* op, const std::vector<int64_t>& x_dims,
                            const std::vector<int64_t>& x_packed,
                            const std::vector<int64_t>& w) const {
    const int64_t words = CeilDiv(channels, 32);
    if (x_packed.size() != 4 || w.size() != 4 || x_packed[3] != words || w[3] != words)
      throw OpError{std::string(op) + ": input " + ShapeStr(x_dims) + " and packed kernel " +
                    ShapeStr(w) + " do not hold " + std::to_string(channels) +
                    " channels (rank 4 NHWC expected)"};
    const int64_t span_h = (w[1] - 1) * dilation_h + 1;
    const int64_t span_w = (w[2] - 1) * dilation_w + 1;
    if (x_packed[1] + pad_top + pad_bottom < span_h || x_packed[2] + pad_left + pad_right < span_w)
      throw OpError{std::string(op) + ": input " + ShapeStr(x_dims) +
                    " is smaller than the kernel " + ShapeStr(w)};
    const int64_t out_h = (x_packed[1] + pad_top + pad_bottom - span_h) / stride_h + 1;
    const int64_t out_w = (x_packed[2] + pad_left + pad_right - span_w) / stride_w + 1;
    return kb::ConvGeometry{x_packed[0], x_packed[1], x_packed[2], words, channels, w[1], w[2],
                            w[0], stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left,
                            out_h, out_w, zero_padding != 0};
  }
};

void RunConv(const kb::ConvGeometry& g, const uint32_t* x, const uint32_t* kernel,
             const kb::OutputTransform& t, OrtKernelContext* raw) {
  if (g.Rows() == 0) return;
  kb::ConvPatches patches(x, kernel, g);
  kb::RunBinaryGemm(patches, g.Rows(), kernel, g.Layout(), t, MakeScheduler(raw));
}

// BinaryConv2d(x int32 [B, H, W, words], w int32 [Cout, kh, kw, words], scale, bias) with the
// ConvAttributes; NHWC output, float or packed.
template <bool kPacked>
struct BinaryConv2dKernel {
  static constexpr const char* kName = kPacked ? "BinaryConv2dPacked" : "BinaryConv2d";
  static constexpr std::array<ONNXTensorElementDataType, 4> kInputs{kS32, kS32, kF32, kF32};
  static constexpr ONNXTensorElementDataType kOutput = kPacked ? kS32 : kF32;
  ConvAttributes a;
  explicit BinaryConv2dKernel(Ort::ConstKernelInfo info) : a(info, kName) {}
  void Compute(Ort::KernelContext& ctx, OrtKernelContext* raw) const {
    Input x = GetInput(ctx, 0), w = GetInput(ctx, 1), scale = GetInput(ctx, 2),
          bias = GetInput(ctx, 3);
    const kb::ConvGeometry g = a.Geometry(kName, x.dims, x.dims, w.dims);
    CheckEpilogue(kName, g.out_channels, scale, bias);
    kb::OutputTransform t = MakeTransform(g.out_channels, g.k_h * g.k_w * a.channels, scale, bias);
    SetOutput<kPacked>(ctx, {g.batch, g.out_h, g.out_w}, g.out_channels, &t);
    RunConv(g, static_cast<const uint32_t*>(x.data), static_cast<const uint32_t*>(w.data), t,
            raw);
  }
};

// BinaryConv2dFloat(x float [B, H, W, channels], w, scale, bias[, residual float [B, OH, OW,
// Cout]]): BinaryConv2d that packs its float input itself (on ORT's threads) and adds the
// optional residual in the epilogue; a sample whose input holds a NaN gets NaN outputs, as the
// float layer's sign(NaN) = NaN spreads it (keras_binary.inference.nan_rows). One op instead
// of PackBits, the NaN check (IsNaN, ReduceMax, Where) and a shortcut's Add.
struct BinaryConv2dFloatKernel {
  static constexpr const char* kName = "BinaryConv2dFloat";
  static constexpr std::array<ONNXTensorElementDataType, 5> kInputs{kF32, kS32, kF32, kF32,
                                                                    kF32};
  static constexpr size_t kRequired = 4;
  static constexpr ONNXTensorElementDataType kOutput = kF32;
  ConvAttributes a;
  explicit BinaryConv2dFloatKernel(Ort::ConstKernelInfo info) : a(info, kName) {}
  void Compute(Ort::KernelContext& ctx, OrtKernelContext* raw) const {
    Input x = GetInput(ctx, 0), w = GetInput(ctx, 1), scale = GetInput(ctx, 2),
          bias = GetInput(ctx, 3);
    if (x.dims.size() != 4 || x.dims[3] != a.channels)
      throw OpError{std::string(kName) + ": input " + ShapeStr(x.dims) + " does not hold " +
                    std::to_string(a.channels) + " channels (rank 4 NHWC expected)"};
    const int64_t words = CeilDiv(a.channels, 32);
    const kb::ConvGeometry g =
        a.Geometry(kName, x.dims, {x.dims[0], x.dims[1], x.dims[2], words}, w.dims);
    CheckEpilogue(kName, g.out_channels, scale, bias);
    kb::OutputTransform t = MakeTransform(g.out_channels, g.k_h * g.k_w * a.channels, scale, bias);
    SetOutput<false>(ctx, {g.batch, g.out_h, g.out_w}, g.out_channels, &t);
    SetResidual(ctx, 4, kName, {g.batch, g.out_h, g.out_w, g.out_channels}, &t);
    kb::RunConv2dFloat(static_cast<const float*>(x.data), g, static_cast<const uint32_t*>(w.data),
                       t, MakeScheduler(raw));
  }
};

// PackedMaxPool2d(x int32 [B, H, W, words], or_mask int32 [words]): per window, the AND of the
// packed sign bits (max of a value negative only where all are), or the OR on or_mask's
// channels (a decreasing map follows); taps in the explicit pads are skipped (never win).
struct PackedMaxPool2dKernel {
  static constexpr const char* kName = "PackedMaxPool2d";
  static constexpr std::array<ONNXTensorElementDataType, 2> kInputs{kS32, kS32};
  static constexpr ONNXTensorElementDataType kOutput = kS32;
  int64_t pool_h, pool_w, stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right;
  explicit PackedMaxPool2dKernel(Ort::ConstKernelInfo info)
      : pool_h(info.GetAttribute<int64_t>("pool_h")),
        pool_w(info.GetAttribute<int64_t>("pool_w")),
        stride_h(info.GetAttribute<int64_t>("stride_h")),
        stride_w(info.GetAttribute<int64_t>("stride_w")),
        pad_top(info.GetAttribute<int64_t>("pad_top")),
        pad_bottom(info.GetAttribute<int64_t>("pad_bottom")),
        pad_left(info.GetAttribute<int64_t>("pad_left")),
        pad_right(info.GetAttribute<int64_t>("pad_right")) {
    if (pool_h < 1 || pool_w < 1 || stride_h < 1 || stride_w < 1)
      throw OpError{"PackedMaxPool2d: pool sizes and strides must be >= 1"};
  }
  void Compute(Ort::KernelContext& ctx, OrtKernelContext* raw) const {
    Input x = GetInput(ctx, 0), mask = GetInput(ctx, 1);
    if (x.dims.size() != 4 || mask.count() != x.dims[3])
      throw OpError{"PackedMaxPool2d: input " + ShapeStr(x.dims) + " and or_mask " +
                    ShapeStr(mask.dims) + " must be [B, H, W, words] and [words]"};
    const int64_t batch = x.dims[0], in_h = x.dims[1], in_w = x.dims[2], words = x.dims[3];
    if (in_h + pad_top + pad_bottom < pool_h || in_w + pad_left + pad_right < pool_w)
      throw OpError{"PackedMaxPool2d: input " + ShapeStr(x.dims) + " is smaller than the pool"};
    const int64_t out_h = (in_h + pad_top + pad_bottom - pool_h) / stride_h + 1;
    const int64_t out_w = (in_w + pad_left + pad_right - pool_w) / stride_w + 1;
    Ort::UnownedValue out = ctx.GetOutput(0, {batch, out_h, out_w, words});
    const uint32_t* in = static_cast<const uint32_t*>(x.data);
    const uint32_t* or_mask = static_cast<const uint32_t*>(mask.data);
    uint32_t* dst = reinterpret_cast<uint32_t*>(out.GetTensorMutableData<int32_t>());
    kb::ParallelFor(MakeScheduler(raw), batch * out_h, [&](int64_t row) {
      const int64_t b = row / out_h, oy = row % out_h;
      std::vector<uint32_t> every(words), some(words);
      for (int64_t ox = 0; ox < out_w; ++ox) {
        std::fill(every.begin(), every.end(), 0xffffffffu);
        std::fill(some.begin(), some.end(), 0u);
        for (int64_t i = 0; i < pool_h; ++i) {
          const int64_t y = oy * stride_h - pad_top + i;
          if (y < 0 || y >= in_h) continue;
          for (int64_t j = 0; j < pool_w; ++j) {
            const int64_t xx = ox * stride_w - pad_left + j;
            if (xx < 0 || xx >= in_w) continue;
            const uint32_t* p = in + ((b * in_h + y) * in_w + xx) * words;
            for (int64_t c = 0; c < words; ++c) {
              every[c] &= p[c];
              some[c] |= p[c];
            }
          }
        }
        uint32_t* o = dst + ((b * out_h + oy) * out_w + ox) * words;
        for (int64_t c = 0; c < words; ++c)
          o[c] = (every[c] & ~or_mask[c]) | (some[c] & or_mask[c]);
      }
    });
  }
};

OrtStatusPtr MakeStatus(const std::string& message) {
  return Ort::GetApi().CreateStatus(ORT_INVALID_ARGUMENT, message.c_str());
}

// Runs f, turning the C++ errors of the kernels and of ORT's C++ wrapper into a status.
template <typename F>
OrtStatusPtr Guard(F&& f) {
  try {
    f();
    return nullptr;
  } catch (const OpError& e) {
    return MakeStatus(e.message);
  } catch (const Ort::Exception& e) {
    return Ort::GetApi().CreateStatus(e.GetOrtErrorCode(), e.what());
  } catch (const std::exception& e) {
    return Ort::GetApi().CreateStatus(ORT_FAIL, e.what());
  }
}

template <typename K>
struct KernelHolder {
  K kernel;
  OrtStatusPtr ComputeV2(OrtKernelContext* raw) {
    return Guard([&] {
      if (*kb::IsaError()) throw OpError{kb::IsaError()};
      Ort::KernelContext ctx(raw);
      kernel.Compute(ctx, raw);
    });
  }
};

template <typename K, typename = void>
struct HasOptionalInputs : std::false_type {};
template <typename K>
struct HasOptionalInputs<K, std::void_t<decltype(K::kRequired)>> : std::true_type {};

template <typename K>
struct Op : Ort::CustomOpBase<Op<K>, KernelHolder<K>, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** out) const {
    return Guard([&] { *out = new KernelHolder<K>{K(Ort::ConstKernelInfo(info))}; });
  }
  const char* GetName() const { return K::kName; }
  size_t GetInputTypeCount() const { return K::kInputs.size(); }
  ONNXTensorElementDataType GetInputType(size_t i) const { return K::kInputs[i]; }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t i) const {
    return i < Required() ? INPUT_OUTPUT_REQUIRED : INPUT_OUTPUT_OPTIONAL;
  }
  // Inputs from K::kRequired on are optional; a kernel without it has none.
  static constexpr size_t Required() {
    if constexpr (HasOptionalInputs<K>::value) {
      return K::kRequired;
    } else {
      return K::kInputs.size();
    }
  }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return K::kOutput; }
};

struct Ops {
  Op<PackBitsKernel> pack_bits;
  Op<BinaryMatmulKernel<false>> matmul;
  Op<BinaryMatmulKernel<true>> matmul_packed;
  Op<BinaryMatmulFloatKernel> matmul_float;
  Op<BinaryConv2dKernel<false>> conv;
  Op<BinaryConv2dKernel<true>> conv_packed;
  Op<BinaryConv2dFloatKernel> conv_float;
  Op<PackedMaxPool2dKernel> max_pool;
};

}  // namespace
}  // namespace kb_ort

#define KB_EXPORT extern "C" __attribute__((visibility("default")))

// The entry point ORT calls for SessionOptions.register_custom_ops_library. The domain and its
// ops live as long as the process (sessions may outlive any one SessionOptions).
KB_EXPORT OrtStatus* ORT_API_CALL RegisterCustomOps(OrtSessionOptions* options,
                                                    const OrtApiBase* api_base) {
  const OrtApi* api = api_base->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    const std::string message =
        std::string("keras_binary ORT ops need onnxruntime with C API ") +
        std::to_string(ORT_API_VERSION) + " or newer; this runtime is " +
        api_base->GetVersionString() + ": upgrade onnxruntime";
    return api_base->GetApi(1)->CreateStatus(ORT_FAIL, message.c_str());
  }
  Ort::InitApi(api);
  if (*kb::IsaError()) return api->CreateStatus(ORT_FAIL, kb::IsaError());
  static kb_ort::Ops* ops = nullptr;
  static OrtCustomOpDomain* domain = nullptr;
  static OrtStatus* init_error = nullptr;
  static std::once_flag once;
  std::call_once(once, [&] {
    ops = new kb_ort::Ops();
    init_error = api->CreateCustomOpDomain(kb_ort::kDomain, &domain);
    const OrtCustomOp* all[] = {&ops->pack_bits, &ops->matmul,      &ops->matmul_packed,
                                &ops->matmul_float, &ops->conv,     &ops->conv_packed,
                                &ops->conv_float, &ops->max_pool};
    for (const OrtCustomOp* op : all) {
      if (init_error == nullptr) init_error = api->CustomOpDomain_Add(domain, op);
    }
  });
  if (init_error != nullptr)
    return api->CreateStatus(api->GetErrorCode(init_error), api->GetErrorMessage(init_error));
  return api->AddCustomOpDomain(options, domain);
}
