// Shared declarations of the keras-binary popcount kernels.
//
// Bit convention (same as Larq Compute Engine): bit 1 means -1, bit 0 means +1, sign(0) = +1.
// Packed words are 32-bit (stored as int32 by the Python side). Inside the kernels, rows are
// copied into 64-bit words; padding bits are always zero, so they cancel in popcount(a ^ b).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kb {

// kAmx: AVX-512 VPOPCNTDQ plus the AMX int8 tile unit, which larger GEMMs use (gemm_amx.cc);
// everything else runs the AVX-512 code (VectorIsa).
enum class Isa : int { kPortable = 0, kAvx2 = 1, kAvx512 = 2, kAmx = 3 };

// The ISA of the vector (non-AMX) code paths.
inline Isa VectorIsa(Isa isa) { return isa == Isa::kAmx ? Isa::kAvx512 : isa; }

// ISA selected for this process (KERAS_BINARY_ISA or the best the CPU supports).
Isa ActiveIsa();
const char* IsaName(Isa isa);
// The ISA named `name` (IsaName's inverse); false for an unknown name.
bool ParseIsa(const char* name, Isa* isa);
// Empty string when fine, else a message explaining why the forced ISA cannot be used.
const char* IsaError();
bool CpuSupports(Isa isa);
// Switches the ISA for later calls (tests and benchmarks); false if the CPU lacks it.
bool ForceIsa(Isa isa);

// Upper bound on worker threads for one call (0 = use the whole FFI thread pool).
int MaxThreads();
void SetMaxThreads(int n);

inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Micro-kernel tile: kMr rows of A times kNr columns of B.
constexpr int kMr = 4;
constexpr int kPanel = 8;  // columns interleaved per B panel
constexpr int kNr = 32;    // columns per tile = one packed output word
constexpr int kPanelsPerTile = kNr / kPanel;

// counts[r * kNr + c] = popcount(a_r ^ b_c) summed over kw64 words, for kMr rows of `a`
// (row stride kw64) and the kNr columns stored in 4 consecutive panels at `b`
// (panel layout: [kw64][kPanel] words, panel stride kw64 * kPanel); with `transposed`, the
// same counts go to counts[c * kNr + r]. Counts are at most 64 * kw64 bits, so int32 holds
// them for any K the int32-indexed packed shapes allow.
using TileFn = void (*)(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts,
                        bool transposed);
void TileCountsPortable(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts,
                        bool transposed);
void TileCountsAvx2(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts,
                    bool transposed);
void TileCountsAvx512(const uint64_t* a, const uint64_t* b, int64_t kw64, int32_t* counts,
                      bool transposed);
TileFn SelectTileFn(Isa isa);

// Few-rows micro-kernel, reading B in its packed row layout (no panel repacking):
// counts[r * kNr + c] = popcount((a_r ^ b_c) & mask) summed over `words` 32-bit words, for
// r < rows <= kMr (A row stride `words`) and c < cols <= kNr (B row stride `words`); `mask`
// ([words]) clears the padding bits of each segment. Entries beyond rows/cols are untouched.
using RowCountsFn = void (*)(const uint32_t* a, int rows, const uint32_t* b, int cols,
                             int64_t words, const uint32_t* mask, int32_t* counts);
void RowCountsPortable(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                       const uint32_t* mask, int32_t* counts);
void RowCountsPopcnt(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                     const uint32_t* mask, int32_t* counts);
void RowCountsAvx512(const uint32_t* a, int rows, const uint32_t* b, int cols, int64_t words,
                     const uint32_t* mask, int32_t* counts);
RowCountsFn SelectRowCountsFn(Isa isa);

// Sum over one conv kernel tap of w in +-1: channels - 2 * popcount of its `words` words, the
// last word's padding bits cleared by last_mask (zero-padding corrections need one per tap and
// output channel on every call). x86-64 only; other targets use the portable sum.
int32_t TapSumAvx512(const uint32_t* w, int64_t words, int64_t channels, uint32_t last_mask);

// Packs `rows` rows of `k` floats into rows of CeilDiv(k, 32) words (bit = x < 0).
void PackRows(const float* x, int64_t rows, int64_t k, uint32_t* out);

struct Scheduler;
// PackRows split over the scheduler's threads when the input is large enough to pay for it;
// `nan`, when not null, as in PackRowsFlagNaN.
void PackRowsOn(const Scheduler& sched, const float* x, int64_t rows, int64_t k, uint32_t* out,
                uint8_t* nan = nullptr);

// PackRows that also sets nan[r] to 1 where row r holds a NaN, else 0: packed bits cannot carry
// NaN (a NaN packs as +1), so a caller that must propagate it marks those rows' outputs.
void PackRowsFlagNaN(const float* x, int64_t rows, int64_t k, uint32_t* out, uint8_t* nan);

// NaN in every output of a group (a dense row, a conv sample: `rows_per_group` packed rows of
// `nan`'s `rows` flags, `outputs_per_group` floats of `out`) whose rows hold a NaN: what
// sign(NaN) = NaN spreads to in the float layer (keras_binary.kernels.nan_rows).
void FillNaNGroups(const uint8_t* nan, int64_t rows, int64_t rows_per_group,
                   int64_t outputs_per_group, float* out);

// Mask of the valid bits in the last 32-bit word of a k-bit row.
inline uint32_t LastWordMask(int64_t k) {
  int r = static_cast<int>(k % 32);
  return r == 0 ? 0xffffffffu : ((1u << r) - 1u);
}

}  // namespace kb
