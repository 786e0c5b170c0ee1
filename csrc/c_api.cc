// Plain C entry points for the Python loader (ctypes): version, ISA, threads and registration of
// the handlers into TensorFlow's embedded XLA (found with dlopen(RTLD_NOLOAD), never linked).
#include <dlfcn.h>

#include <cstring>
#include <string>

#include "gemm_driver.h"
#include "kb_common.h"
#include "xla/ffi/api/c_api.h"

#define KB_EXPORT extern "C" __attribute__((visibility("default")))

extern "C" XLA_FFI_Error* KbPackBits(XLA_FFI_CallFrame*);
extern "C" XLA_FFI_Error* KbBinaryMatmulF32(XLA_FFI_CallFrame*);
extern "C" XLA_FFI_Error* KbBinaryMatmulPacked(XLA_FFI_CallFrame*);
extern "C" XLA_FFI_Error* KbBinaryConv2dF32(XLA_FFI_CallFrame*);
extern "C" XLA_FFI_Error* KbBinaryConv2dPacked(XLA_FFI_CallFrame*);
extern "C" XLA_FFI_Error* KbBinaryMatmulFloatF32(XLA_FFI_CallFrame*);
extern "C" XLA_FFI_Error* KbBinaryConv2dFloatF32(XLA_FFI_CallFrame*);
extern "C" XLA_FFI_Error* KbFloatConv2dF32(XLA_FFI_CallFrame*);

namespace {

std::string g_tf_error;

std::string TakeError(const XLA_FFI_Api* api, XLA_FFI_Error* err) {
  XLA_FFI_Error_GetMessage_Args m;
  std::memset(&m, 0, sizeof(m));
  m.struct_size = XLA_FFI_Error_GetMessage_Args_STRUCT_SIZE;
  m.error = err;
  api->XLA_FFI_Error_GetMessage(&m);
  std::string msg = m.message ? m.message : "unknown error";
  XLA_FFI_Error_Destroy_Args d;
  std::memset(&d, 0, sizeof(d));
  d.struct_size = XLA_FFI_Error_Destroy_Args_STRUCT_SIZE;
  d.error = err;
  api->XLA_FFI_Error_Destroy(&d);
  return msg;
}

std::string RegisterAll(const XLA_FFI_Api* api, const char* prefix, const char* platform) {
  struct Target {
    const char* name;
    XLA_FFI_Handler* fn;
  };
  const Target targets[] = {{"pack_bits", KbPackBits},
                            {"binary_matmul_f32", KbBinaryMatmulF32},
                            {"binary_matmul_packed", KbBinaryMatmulPacked},
                            {"binary_conv2d_f32", KbBinaryConv2dF32},
                            {"binary_conv2d_packed", KbBinaryConv2dPacked},
                            {"binary_matmul_float_f32", KbBinaryMatmulFloatF32},
                            {"binary_conv2d_float_f32", KbBinaryConv2dFloatF32},
                            {"float_conv2d_f32", KbFloatConv2dF32}};
  for (const Target& t : targets) {
    const std::string name = std::string(prefix) + t.name;
    XLA_FFI_Handler_Register_Args args;
    std::memset(&args, 0, sizeof(args));
    args.struct_size = XLA_FFI_Handler_Register_Args_STRUCT_SIZE;
    args.name = XLA_FFI_ByteSpan{name.data(), name.size()};
    args.platform = XLA_FFI_ByteSpan{platform, std::strlen(platform)};
    args.bundle.execute = t.fn;
    if (XLA_FFI_Error* err = api->XLA_FFI_Handler_Register(&args)) {
      return "registering " + name + ": " + TakeError(api, err);
    }
  }
  return "";
}

}  // namespace

KB_EXPORT int kb_ffi_api_major() { return XLA_FFI_API_MAJOR; }
KB_EXPORT int kb_ffi_api_minor() { return XLA_FFI_API_MINOR; }
KB_EXPORT const char* kb_isa_name() { return kb::IsaName(kb::ActiveIsa()); }
KB_EXPORT const char* kb_isa_error() { return kb::IsaError(); }
KB_EXPORT int kb_cpu_supports(const char* name) {
  kb::Isa isa;
  return kb::ParseIsa(name, &isa) && kb::CpuSupports(isa);
}
// Forces an ISA for later calls; returns 0 when the name is unknown or the CPU lacks it.
KB_EXPORT int kb_force_isa(const char* name) {
  kb::Isa isa;
  return kb::ParseIsa(name, &isa) && kb::ForceIsa(isa);
}
KB_EXPORT void kb_set_max_threads(int n) { kb::SetMaxThreads(n); }
KB_EXPORT int kb_max_threads() { return kb::MaxThreads(); }
// The GEMM driver's path ("rows", "panels", "swapped" or "amx"), with the active ISA, for `rows`
// A rows against `n` B rows of `segments` segments of `seg_bits` bits (a matmul: 1 segment of K
// bits; a conv: one per kernel tap, of `channels` bits), operands aligned as XLA aligns them.
KB_EXPORT const char* kb_gemm_path(int64_t rows, int64_t n, int64_t seg_bits, int64_t segments) {
  const kb::RowLayout layout{segments, kb::CeilDiv(seg_bits, 32), seg_bits};
  return kb::GemmPathName(
      kb::ChooseGemmPath(rows, n, layout, /*b_aligned=*/true, kb::ActiveIsa()));
}

KB_EXPORT int64_t kb_gemm_path_limit(const char* name) { return kb::GemmPathLimit(name); }

// Registers all handlers as "<prefix><name>" for XLA platform "Host" inside the already loaded
// TensorFlow library `tf_library`. Returns "" on success, else an error message.
KB_EXPORT const char* kb_register_tf(const char* tf_library, const char* prefix) {
  void* handle = dlopen(tf_library, RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) {
    g_tf_error = std::string("TensorFlow library ") + tf_library + " is not loaded";
    return g_tf_error.c_str();
  }
  using GetApi = const XLA_FFI_Api* (*)();
  auto get_api = reinterpret_cast<GetApi>(dlsym(handle, "_ZN3xla3ffi12GetXlaFfiApiEv"));
  if (get_api == nullptr) {
    g_tf_error = std::string(tf_library) + " does not export xla::ffi::GetXlaFfiApi()";
    return g_tf_error.c_str();
  }
  const XLA_FFI_Api* api = get_api();
  const int major = api->api_version.major_version;
  const int minor = api->api_version.minor_version;
  if (major != XLA_FFI_API_MAJOR || minor < XLA_FFI_API_MINOR) {
    g_tf_error = "TensorFlow's XLA FFI API version " + std::to_string(major) + "." +
                 std::to_string(minor) + " is incompatible with the kernels' " +
                 std::to_string(XLA_FFI_API_MAJOR) + "." + std::to_string(XLA_FFI_API_MINOR);
    return g_tf_error.c_str();
  }
  g_tf_error = RegisterAll(api, prefix, "Host");
  return g_tf_error.c_str();
}
