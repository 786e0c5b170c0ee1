// Runtime ISA selection: best supported by the CPU, or forced with KERAS_BINARY_ISA.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kb_common.h"

namespace kb {
namespace {

struct IsaChoice {
  Isa isa = Isa::kPortable;
  std::string error;
};

IsaChoice Choose() {
  IsaChoice c;
  Isa best = CpuSupports(Isa::kAvx512) ? Isa::kAvx512
             : CpuSupports(Isa::kAvx2) ? Isa::kAvx2
                                        : Isa::kPortable;
  const char* env = std::getenv("KERAS_BINARY_ISA");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "auto") == 0) {
    c.isa = best;
    return c;
  }
  Isa wanted;
  if (std::strcmp(env, "portable") == 0) {
    wanted = Isa::kPortable;
  } else if (std::strcmp(env, "avx2") == 0) {
    wanted = Isa::kAvx2;
  } else if (std::strcmp(env, "avx512") == 0) {
    wanted = Isa::kAvx512;
  } else {
    c.error = std::string("KERAS_BINARY_ISA='") + env +
              "' is not one of: auto, portable, avx2, avx512";
    return c;
  }
  if (!CpuSupports(wanted)) {
    c.error = std::string("KERAS_BINARY_ISA=") + env +
              " was requested but this CPU lacks the instructions it needs";
    return c;
  }
  c.isa = wanted;
  return c;
}

const IsaChoice& Choice() {
  static const IsaChoice choice = Choose();
  return choice;
}

std::atomic<int> g_max_threads{0};
std::atomic<int> g_override{-1};  // set by ForceIsa, -1 = none

}  // namespace

bool CpuSupports(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kPortable:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vpopcntdq");
  }
  return false;
#else
  return isa == Isa::kPortable;
#endif
}

Isa ActiveIsa() {
  const int forced = g_override.load(std::memory_order_relaxed);
  return forced >= 0 ? static_cast<Isa>(forced) : Choice().isa;
}

bool ForceIsa(Isa isa) {
  if (!CpuSupports(isa)) return false;
  g_override.store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}
const char* IsaError() { return Choice().error.c_str(); }

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    default:
      return "portable";
  }
}

int MaxThreads() { return g_max_threads.load(std::memory_order_relaxed); }
void SetMaxThreads(int n) { g_max_threads.store(n < 0 ? 0 : n, std::memory_order_relaxed); }

}  // namespace kb
