// How fast the AMX tile unit runs the binary GEMM's 2 x 2 tile kernel (DotBlock of
// csrc/gemm_amx_tiles.h) on this core, apart from the rest of the GEMM: ns per TDPBSSD against
// the operands' working set (in L1 or not), their data (zeros, random 0/1 bytes as the AMX paths
// use, random +-1 bytes) and whether the four accumulators are stored after each block of K
// steps (DotBlock itself, as the GEMM calls it) or kept in tiles for the whole run. One thread;
// prints a table.
//
// From the repository root:
//   g++ -O2 -std=c++17 -mamx-tile -mamx-int8 -Icsrc benchmarks/amx_tile_rate.cc -o /tmp/amx_tile_rate
//   /tmp/amx_tile_rate
//
// Needs an AMX-INT8 CPU and a Linux kernel that grants the tile state (5.16+).
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "gemm_amx_tiles.h"

namespace {

using kb::amx::kTileBytes;

// Two A tiles and two B tiles per K step, `steps` steps (the working set: 4 * steps KiB).
// stored: DotBlock per pass over the steps (accumulators zeroed, then stored); otherwise the
// same loads and products with the accumulators kept across passes, stored once at the end.
double NsPerProduct(const int8_t* a, const int8_t* b, int64_t steps, bool stored,
                    int64_t products) {
  alignas(64) static int32_t dots[kb::amx::kDotBlock];
  const int64_t passes = products / (4 * steps);
  const int64_t half = steps * kTileBytes;
  const auto t0 = std::chrono::steady_clock::now();
  if (stored) {
    for (int64_t p = 0; p < passes; ++p) {
      kb::amx::DotBlock<kb::amx::Streamed::kB>(a, half, b, half, steps, /*first=*/true, dots);
    }
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t p = 0; p < passes; ++p) {
      for (int64_t k = 0; k < steps; ++k) {
        const int64_t at = k * kTileBytes;
        _tile_loadd(4, a + at, 64);
        _tile_loadd(6, b + at, 64);
        _tile_dpbssd(0, 4, 6);
        _tile_loadd(7, b + half + at, 64);
        _tile_dpbssd(1, 4, 7);
        _tile_loadd(5, a + half + at, 64);
        _tile_dpbssd(2, 5, 6);
        _tile_dpbssd(3, 5, 7);
      }
    }
    _tile_stored(0, dots, 64);
  }
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / (passes * 4 * steps);
}

}  // namespace

int main() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    std::fprintf(stderr, "the OS did not grant the AMX tile state (no AMX, or Linux < 5.16)\n");
    return 1;
  }
  kb::amx::LoadTileConfig();

  const int64_t step_grid[] = {4, 8, 12, 24, 36};
  const char* data_names[] = {"zeros", "0/1", "+-1"};
  std::mt19937 rng(1);
  std::printf("%-6s %-5s %9s %-13s %14s\n", "steps", "data", "work set", "accumulators",
              "ns per TDPBSSD");
  for (int64_t steps : step_grid) {
    // 64-byte aligned, as the GEMM's buffers: tile rows that straddle cache lines load slower.
    const size_t bytes = static_cast<size_t>(2 * steps * kTileBytes);
    auto* a = static_cast<int8_t*>(std::aligned_alloc(64, bytes));
    auto* b = static_cast<int8_t*>(std::aligned_alloc(64, bytes));
    for (int data = 0; data < 3; ++data) {
      for (int8_t* v : {a, b}) {
        for (size_t i = 0; i < bytes; ++i) {
          const int bit = static_cast<int>(rng() & 1);
          v[i] = static_cast<int8_t>(data == 0 ? 0 : data == 1 ? bit : 2 * bit - 1);
        }
      }
      for (bool stored : {true, false}) {
        NsPerProduct(a, b, steps, stored, 1 << 16);  // warm up
        double best = 1e30;
        for (int rep = 0; rep < 5; ++rep) {
          best = std::min(best, NsPerProduct(a, b, steps, stored, 1 << 20));
        }
        std::printf("%-6lld %-5s %6lld KiB %-13s %14.2f\n", static_cast<long long>(steps),
                    data_names[data], static_cast<long long>(4 * steps),
                    stored ? "stored/block" : "kept", best);
      }
    }
    std::free(a);
    std::free(b);
  }
  kb::amx::ReleaseTiles();
  return 0;
}
