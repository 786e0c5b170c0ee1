// Runtime ISA selection: best supported by the CPU, or forced with KERAS_BINARY_ISA.
#include <atomic>
#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
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
  const char* env = std::getenv("KERAS_BINARY_ISA");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "auto") == 0) {
    // Checking AMX asks the OS for the tile state, so only when it could be chosen.
    c.isa = CpuSupports(Isa::kAmx)      ? Isa::kAmx
            : CpuSupports(Isa::kAvx512) ? Isa::kAvx512
            : CpuSupports(Isa::kAvx2)   ? Isa::kAvx2
                                        : Isa::kPortable;
    return c;
  }
  Isa wanted;
  if (!ParseIsa(env, &wanted)) {
    c.error = std::string("KERAS_BINARY_ISA='") + env +
              "' is not one of: auto, portable, avx2, avx512, amx";
    return c;
  }
  if (!CpuSupports(wanted)) {
    c.error = std::string("KERAS_BINARY_ISA=") + env +
              " was requested but this CPU (or, for amx, the OS) does not allow it";
    return c;
  }
  c.isa = wanted;
  return c;
}

const IsaChoice& Choice() {
  static const IsaChoice choice = Choose();
  return choice;
}

// AMX-TILE and AMX-INT8 (CPUID leaf 7, EDX bits 24 and 25), their state enabled by the OS (XCR0
// bits 17 and 18), and this process allowed to use it: Linux 5.16+ hands out the 8 KiB of tile
// state only on request (arch_prctl ARCH_REQ_XCOMP_PERM), and a tile instruction without it
// faults. Asked once per process. Only x86 builds ask (other CPUs run the portable kernels).
#if defined(__x86_64__) || defined(__i386__)
bool AmxUsable() {
#if defined(__x86_64__) && defined(__linux__)
  static const bool usable = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    if (!(edx & (1u << 24)) || !(edx & (1u << 25))) return false;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return false;  // OSXSAVE
    unsigned xcr0_lo = 0, xcr0_hi = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    const unsigned tile_state = (1u << 17) | (1u << 18);
    if ((xcr0_lo & tile_state) != tile_state) return false;
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
#else
  return false;
#endif
}
#endif

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
    case Isa::kAmx:
      return CpuSupports(Isa::kAvx512) && AmxUsable();
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
    case Isa::kAmx:
      return "amx";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    default:
      return "portable";
  }
}

bool ParseIsa(const char* name, Isa* isa) {
  for (Isa candidate : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kAmx}) {
    if (std::strcmp(name, IsaName(candidate)) == 0) {
      *isa = candidate;
      return true;
    }
  }
  return false;
}

int MaxThreads() { return g_max_threads.load(std::memory_order_relaxed); }
void SetMaxThreads(int n) { g_max_threads.store(n < 0 ? 0 : n, std::memory_order_relaxed); }

}  // namespace kb
