// Plain C entry points over the same GEMM driver as the XLA FFI handlers (pointers, dimensions
// and attributes), for callers without an XLA runtime: the PyTorch custom ops
// (keras_binary/kernels/torch_ops.py). They run on the library's own worker threads. The caller
// checks shapes; these check only what would make the driver read or write out of bounds.
// Each returns "" on success, else a static error message.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "float_conv.h"
#include "float_input.h"
#include "gemm_driver.h"
#include "kb_common.h"
#include "row_sources.h"
#include "threading.h"

#define KB_EXPORT extern "C" __attribute__((visibility("default")))

namespace kb {
namespace {

// A process-wide pool of worker threads, grown on demand and never shut down (its threads are
// detached, so interpreter exit does not wait on them). ParallelFor lets the caller claim work
// too, so a call completes even where the workers never run (e.g. in a forked child).
class WorkerPool {
 public:
  void Schedule(std::function<void()> task, int want_workers) {
    std::lock_guard<std::mutex> lock(mu_);
    while (started_ < want_workers) {
      std::thread([this] { Work(); }).detach();
      ++started_;
    }
    tasks_.push_back(std::move(task));
    cv_.notify_one();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  int started_ = 0;
};

WorkerPool& Pool() {
  static WorkerPool* pool = new WorkerPool();  // leaked: workers may outlive static destructors
  return *pool;
}

// `num_threads` workers including the caller (the framework's intra-op thread count), capped by
// kb_set_max_threads.
Scheduler MakeScheduler(int num_threads) {
  Scheduler s;
  int threads = std::max(num_threads, 1);
  if (MaxThreads() > 0) threads = std::min(threads, MaxThreads());
  s.num_threads = threads;
  const int workers = threads - 1;
  if (workers > 0) {
    s.schedule = [workers](std::function<void()> task) {
      Pool().Schedule(std::move(task), workers);
    };
  }
  return s;
}

OutputTransform MakeTransform(int64_t n, int64_t k, const float* scale, const float* bias,
                              float* out_f, int32_t* out_p) {
  OutputTransform t;
  t.n = n;
  t.k = k;
  t.scale = scale;
  t.bias = bias;
  t.out_float = out_f;
  t.out_packed = reinterpret_cast<uint32_t*>(out_p);
  return t;
}

// The geometry of a conv call from its sizes and attrs (KB_CONV_ATTRS order); "" or the problem.
const char* ConvGeometryOf(int64_t batch, int64_t in_h, int64_t in_w, int64_t out_channels,
                           int64_t k_h, int64_t k_w, int64_t out_h, int64_t out_w,
                           const int64_t* attrs, ConvGeometry* g) {
  const int64_t channels = attrs[0];
  if (channels < 1 || out_channels < 1 || k_h < 1 || k_w < 1 || batch < 0 || out_h < 0 ||
      out_w < 0)
    return "conv2d: channels, out_channels and kernel sizes must be >= 1";
  for (int i = 1; i < 5; ++i)
    if (attrs[i] < 1) return "conv2d: strides and dilations must be >= 1";
  *g = ConvGeometry{batch,    in_h,     in_w,     CeilDiv(channels, 32),
                    channels, k_h,      k_w,      out_channels,
                    attrs[1], attrs[2], attrs[3], attrs[4],
                    attrs[5], attrs[6], out_h,    out_w,
                    attrs[7] != 0};
  return "";
}

// Exactly one of out_f and out_p is set.
const char* CheckOutputs(const float* out_f, const int32_t* out_p) {
  return (out_f == nullptr) == (out_p == nullptr) ? "exactly one output buffer must be given" : "";
}

}  // namespace
}  // namespace kb

// pack_bits: x [rows, k] floats -> out [rows, ceil(k / 32)] words (bit = x < 0).
KB_EXPORT const char* kb_c_pack_bits(const float* x, int64_t rows, int64_t k, int32_t* out) {
  if (*kb::IsaError()) return kb::IsaError();
  if (rows < 0 || k < 1) return "pack_bits: rows must be >= 0 and k >= 1";
  if (rows > 0) kb::PackRows(x, rows, k, reinterpret_cast<uint32_t*>(out));
  return "";
}

// binary_matmul: x [rows, ceil(k / 32)], w [n, ceil(k / 32)], scale and bias [n] -> out_f
// [rows, n] floats or out_p [rows, ceil(n / 32)] packed signs.
KB_EXPORT const char* kb_c_binary_matmul(const int32_t* x, int64_t rows, const int32_t* w,
                                         int64_t n, int64_t k, const float* scale,
                                         const float* bias, float* out_f, int32_t* out_p,
                                         int num_threads) {
  if (*kb::IsaError()) return kb::IsaError();
  if (const char* e = kb::CheckOutputs(out_f, out_p); *e) return e;
  if (rows < 0 || n < 1 || k < 1) return "binary_matmul: rows must be >= 0, n and k >= 1";
  const kb::RowLayout layout{1, kb::CeilDiv(k, 32), k};
  const kb::MatrixRows a(reinterpret_cast<const uint32_t*>(x), layout);
  kb::RunBinaryGemm(a, rows, reinterpret_cast<const uint32_t*>(w), layout,
                    kb::MakeTransform(n, k, scale, bias, out_f, out_p),
                    kb::MakeScheduler(num_threads));
  return "";
}

// binary_conv2d: x [batch, in_h, in_w, words], w [out_channels, k_h, k_w, words] -> out_f
// [batch, out_h, out_w, out_channels] or out_p [batch, out_h, out_w, ceil(out_channels / 32)].
// attrs: the conv attributes in KB_CONV_ATTRS order (kb_conv2d_attr_names): channels,
// stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, zero_padding.
KB_EXPORT const char* kb_c_binary_conv2d(const int32_t* x, int64_t batch, int64_t in_h,
                                         int64_t in_w, const int32_t* w, int64_t out_channels,
                                         int64_t k_h, int64_t k_w, int64_t out_h, int64_t out_w,
                                         const int64_t* attrs, const float* scale,
                                         const float* bias, float* out_f, int32_t* out_p,
                                         int num_threads) {
  if (*kb::IsaError()) return kb::IsaError();
  if (const char* e = kb::CheckOutputs(out_f, out_p); *e) return e;
  kb::ConvGeometry g{};
  if (const char* e = kb::ConvGeometryOf(batch, in_h, in_w, out_channels, k_h, k_w, out_h,
                                         out_w, attrs, &g);
      *e)
    return e;
  const uint32_t* kernel = reinterpret_cast<const uint32_t*>(w);
  const kb::ConvPatches patches(reinterpret_cast<const uint32_t*>(x), kernel, g);
  kb::RunBinaryGemm(patches, g.Rows(), kernel, g.Layout(),
                    kb::MakeTransform(out_channels, k_h * k_w * g.channels, scale, bias, out_f,
                                      out_p),
                    kb::MakeScheduler(num_threads));
  return "";
}

// binary_matmul_float: binary_matmul of x [rows, k] floats packed here; a row holding a NaN gets
// NaN outputs; residual [rows, n] (or null) is added in the epilogue.
KB_EXPORT const char* kb_c_binary_matmul_float(const float* x, int64_t rows, const int32_t* w,
                                               int64_t n, int64_t k, const float* scale,
                                               const float* bias, const float* residual,
                                               float* out, int num_threads) {
  if (*kb::IsaError()) return kb::IsaError();
  if (rows < 0 || n < 1 || k < 1) return "binary_matmul_float: rows must be >= 0, n and k >= 1";
  kb::OutputTransform t = kb::MakeTransform(n, k, scale, bias, out, nullptr);
  t.residual = residual;
  kb::RunMatmulFloat(x, rows, k, reinterpret_cast<const uint32_t*>(w), t,
                     kb::MakeScheduler(num_threads));
  return "";
}

// binary_conv2d_float: binary_conv2d of x [batch, in_h, in_w, channels] floats packed here
// (attrs as for kb_c_binary_conv2d); a sample holding a NaN gets NaN outputs; residual
// [batch, out_h, out_w, out_channels] (or null) is added in the epilogue.
KB_EXPORT const char* kb_c_binary_conv2d_float(const float* x, int64_t batch, int64_t in_h,
                                               int64_t in_w, const int32_t* w,
                                               int64_t out_channels, int64_t k_h, int64_t k_w,
                                               int64_t out_h, int64_t out_w,
                                               const int64_t* attrs, const float* scale,
                                               const float* bias, const float* residual,
                                               float* out, int num_threads) {
  if (*kb::IsaError()) return kb::IsaError();
  kb::ConvGeometry g{};
  if (const char* e = kb::ConvGeometryOf(batch, in_h, in_w, out_channels, k_h, k_w, out_h,
                                         out_w, attrs, &g);
      *e)
    return e;
  kb::OutputTransform t = kb::MakeTransform(out_channels, k_h * k_w * g.channels, scale, bias,
                                            out, nullptr);
  t.residual = residual;
  kb::RunConv2dFloat(x, g, reinterpret_cast<const uint32_t*>(w), t,
                     kb::MakeScheduler(num_threads));
  return "";
}

// float_conv2d: x [batch, in_h, in_w, channels] floats, w the Keras kernel [k_h, k_w, channels,
// out_channels] -> out [batch, out_h, out_w, out_channels] = conv * scale + bias (zero padding;
// attrs as for kb_c_binary_conv2d, zero_padding and the word count unused).
KB_EXPORT const char* kb_c_float_conv2d(const float* x, int64_t batch, int64_t in_h,
                                        int64_t in_w, const float* w, int64_t out_channels,
                                        int64_t k_h, int64_t k_w, int64_t out_h, int64_t out_w,
                                        const int64_t* attrs, const float* scale,
                                        const float* bias, float* out, int num_threads) {
  if (*kb::IsaError()) return kb::IsaError();
  kb::ConvGeometry g{};
  if (const char* e = kb::ConvGeometryOf(batch, in_h, in_w, out_channels, k_h, k_w, out_h,
                                         out_w, attrs, &g);
      *e)
    return e;
  kb::RunFloatConv2d(x, g, w, scale, bias, out, kb::MakeScheduler(num_threads));
  return "";
}
