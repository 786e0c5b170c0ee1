// Blocked, multithreaded binary GEMM driver: repacks B into panels, asks a RowSource for blocks of
// A rows (plain rows or im2col patches), runs the ISA micro-kernel, then the output transform.
// Products of a few rows (up to 8, e.g. a dense layer at batch 1) skip the repacking and count
// from B's packed rows directly; products of fewer rows than columns swap the roles of A and B;
// with the AMX ISA, products of many rows run on the AMX tile unit (gemm_amx.cc; with many
// output channels, gemm_amx_stream.cc).
#pragma once

#include <cstdint>

#include "kb_common.h"
#include "output_transform.h"
#include "threading.h"

namespace kb {

// A row of 32-bit words made of `segments` segments of `seg_words` words holding `seg_bits` bits
// each (a matmul row is one segment; a conv patch row is one segment per kernel tap).
struct RowLayout {
  int64_t segments = 1;
  int64_t seg_words = 0;
  int64_t seg_bits = 0;
  int64_t words() const { return segments * seg_words; }
  // Mask of valid bits of word j of a row.
  uint32_t Mask(int64_t j) const {
    return (j % seg_words == seg_words - 1) ? LastWordMask(seg_bits) : 0xffffffffu;
  }
  // Rows are whole 64-bit words with no padding bits, so kernels can read them in place.
  bool WholeWords64() const { return words() % 2 == 0 && seg_bits % 32 == 0; }
};

class RowSource {
 public:
  virtual ~RowSource() = default;
  // Writes rows [m0, m0 + rows) as masked 32-bit words into dst (row stride dst_words).
  virtual void Fill(int64_t m0, int64_t rows, uint32_t* dst, int64_t dst_words) const = 0;
  // Rows [m0, m0 + rows) in place, when they already are masked rows of an even number of
  // words (so 64-bit words, row stride layout.words()); nullptr when they must be filled.
  virtual const uint32_t* Direct(int64_t m0) const {
    (void)m0;
    return nullptr;
  }
  // Zero-padding corrections of rows [m0, m0 + rows): corr[r] is [n] ints subtracted from row
  // m0 + r's counts (owned by the source, valid while it lives), or nullptr. True if any row
  // has one.
  virtual bool Corrections(int64_t m0, int64_t rows, const int32_t** corr) const {
    (void)m0;
    for (int64_t r = 0; r < rows; ++r) corr[r] = nullptr;
    return false;
  }
};

// How RunBinaryGemm counts a product: from B's packed rows (up to 8 A rows), from B repacked
// into panels, or with the roles swapped (A's rows in panels, B's rows broadcast in place) when
// A has fewer rows than B and B's rows are whole 64-bit words (b_aligned: 8-byte aligned), or
// on the AMX tile unit (isa kAmx, and enough rows and channels to repay the byte expansion),
// with the weights expanded once per call (kAmx) or, for many channels, streamed (kAmxStream).
enum class GemmPath { kRows, kPanels, kSwapped, kAmx, kAmxStream };
GemmPath ChooseGemmPath(int64_t num_rows, int64_t n, const RowLayout& layout, bool b_aligned,
                        Isa isa);
const char* GemmPathName(GemmPath path);
// The thresholds ChooseGemmPath applies, by name ("few_rows", "amx_min_rows",
// "amx_min_channels", "amx_stream_min_rows", "amx_stream_min_channels",
// "amx_stream_min_outputs", "amx_max_k_bits"), so tests read them instead of copying them;
// -1 for an unknown name.
int64_t GemmPathLimit(const char* name);

// out = transform(K - 2 * popcount(A[m] ^ B[n])) for m < num_rows, n < transform.n.
// b: [transform.n][layout.words()] 32-bit words.
void RunBinaryGemm(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                   const OutputTransform& transform, const Scheduler& sched);

// The AMX paths of RunBinaryGemm (same contract); only for a CPU where CpuSupports(Isa::kAmx).
void RunAmxGemm(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                const OutputTransform& transform, const Scheduler& sched);
void RunAmxStreamGemm(const RowSource& a, int64_t num_rows, const uint32_t* b,
                      const RowLayout& layout, const OutputTransform& transform,
                      const Scheduler& sched);

}  // namespace kb
