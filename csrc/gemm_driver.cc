#include "gemm_driver.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "gemm_scratch.h"

namespace kb {
namespace {

// Cache blocking. A work item is a block of A rows times a chunk of B tiles. The tile loop is
// outside the row loop, so while one B tile (kNr columns x K bits) is swept down the whole row
// block, both stay in L1: the tile is re-read from L1 for every kMr rows, and the row block for
// every tile. The row block is sized to about kRowBlockBytes of packed A (L1 data is 32-48 KiB
// on the targeted cores; a B tile at K = 2304 bits is 9 KiB).
constexpr int64_t kRowBlockBytes = 16 * 1024;
constexpr int64_t kMaxRowBlock = 256;
constexpr int64_t kMaxTilesPerChunk = 8;

// Up to this many A rows, outputs are counted from B's packed rows instead of repacked panels:
// at so few rows repacking all of B costs more than the product (docs/performance-notes.md,
// "GEMM driver").
constexpr int64_t kFewRows = 2 * kMr;

// Cost model that chooses between the panel and swapped paths, in 1/16 cycles (fitted with a
// C++ harness on Zen 4, one thread; docs/performance-notes.md, "GEMM driver"):
constexpr int64_t kCountCost = 3;       // one row x column x 64-bit word in the tile kernel
constexpr int64_t kRepackCost = 35;     // one 64-bit word of a matrix repacked into panels
constexpr int64_t kTransposedCost = 11;  // the swapped path's extra per output

// With the AMX ISA, products of at least this many rows and output channels run on the tile unit
// (gemm_amx.cc); below them expanding the operands to bytes is not repaid, on one thread or two.
// Read off benchmarks/bench_gemm_paths.py (docs/performance-notes.md, "AMX path rules").
constexpr int64_t kAmxMinRows = 256;
constexpr int64_t kAmxMinChannels = 128;
// From this many channels (and rows, and outputs) the weights are streamed instead
// (gemm_amx_stream.cc), since expanding them all per call outgrows L2. The row and output
// minimums leave the popcount kernel the products it runs as fast on two threads
// (bench_gemm_paths.py --threads all; same page).
constexpr int64_t kAmxStreamMinRows = 48;
constexpr int64_t kAmxStreamMinChannels = 1024;
constexpr int64_t kAmxStreamMinOutputs = 96 * 1024;
// Both AMX paths up to this many 64-bit words of K (16384 bits): their byte-expanded buffers grow
// with K (128 rows x K bytes per thread streamed; at least one channel pair, 64 x K bytes, of
// expanded weights per thread).
constexpr int64_t kAmxMaxKw64 = 256;

// The calling thread's panel buffer, reused across calls: a fresh multi-megabyte vector per call
// costs a zero fill and, from glibc's mmap, a page fault per 4 KiB. Pool threads must reach it
// through a pointer taken by the caller (a thread_local name would be their own buffer).
std::vector<uint64_t>& PanelBuffer(int64_t size) {
  thread_local std::vector<uint64_t> buffer;
  buffer.resize(static_cast<size_t>(size));
  return buffer;
}

// Interleaves B rows into panels of kPanel columns: panel[p][k64][c], zero beyond n. Writes are
// sequential; the kPanel source rows are read in step. Masks clear the padding bits of each
// segment's last word (real padding is already zero, but a caller's need not be).
void PackPanels(const uint32_t* b, int64_t n, const RowLayout& layout, int64_t kw64,
                int64_t panels, uint64_t* out, const Scheduler& sched) {
  const int64_t words = layout.words();
  const std::vector<uint32_t> masks = RowMasks(layout, 2 * kw64);  // 0 for the odd word pad
  const std::vector<uint32_t> zeros(static_cast<size_t>(2 * kw64), 0);  // columns beyond n
  ParallelFor(sched, panels, [&](int64_t p) {
    const uint32_t* src[kPanel];
    for (int c = 0; c < kPanel; ++c) {
      const int64_t col = p * kPanel + c;
      src[c] = col < n ? b + col * words : zeros.data();
    }
    uint64_t* dst = out + p * kw64 * kPanel;
    const int64_t pairs = words / 2;  // 64-bit words made of two real 32-bit words
    for (int64_t k = 0; k < pairs; ++k, dst += kPanel) {
      const uint64_t lo_mask = masks[2 * k], hi_mask = masks[2 * k + 1];
      for (int c = 0; c < kPanel; ++c) {
        dst[c] = (src[c][2 * k] & lo_mask) | (static_cast<uint64_t>(src[c][2 * k + 1] & hi_mask) << 32);
      }
    }
    if (pairs < kw64) {  // odd word count: the last 64-bit word has a zero high half
      for (int c = 0; c < kPanel; ++c) dst[c] = src[c][2 * pairs] & masks[2 * pairs];
    }
  });
}

// Few rows (a dense layer at batch 1): B is read once whatever the path, so repacking it into
// panels (a full read and write of B) would cost more than the product itself. Each output is
// counted from B's packed rows directly; the work is split over tiles of kNr columns.
void RunFewRows(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                const OutputTransform& transform, const Scheduler& sched) {
  const int64_t n = transform.n;
  const int64_t words = layout.words();
  std::vector<uint32_t> rows(static_cast<size_t>(num_rows * words));
  a.Fill(0, num_rows, rows.data(), words);
  const std::vector<uint32_t> mask = RowMasks(layout, words);
  const int32_t* const* corr = RowCorrections(a, 0, num_rows, CeilDiv(num_rows, kMr) * kMr);
  const int64_t tiles = CeilDiv(n, kNr);
  const int64_t want_items = 4 * std::max(sched.num_threads, 1);
  const int64_t tiles_per_item = std::max<int64_t>(1, tiles / want_items);
  const RowCountsFn count = SelectRowCountsFn(ActiveIsa());
  const EpilogueFn epilogue = SelectEpilogueFn(ActiveIsa());
  ParallelFor(sched, CeilDiv(tiles, tiles_per_item), [&](int64_t item) {
    const int64_t t1 = std::min(tiles, (item + 1) * tiles_per_item);
    alignas(64) int32_t counts[kMr * kNr];
    for (int64_t t = item * tiles_per_item; t < t1; ++t) {
      const int cols = static_cast<int>(std::min<int64_t>(kNr, n - t * kNr));
      for (int64_t r0 = 0; r0 < num_rows; r0 += kMr) {
        const int valid = static_cast<int>(std::min<int64_t>(kMr, num_rows - r0));
        count(rows.data() + r0 * words, valid, b + t * kNr * words, cols, words, mask.data(),
              counts);
        epilogue(transform, r0, valid, t * kNr, counts, corr ? corr + r0 : nullptr);
      }
    }
  });
}

// Swapped roles (fewer rows than columns, e.g. a dense layer at batch 32 or 64): A's few rows
// are interleaved into panels and B's packed rows, read in place, are broadcast against them,
// so B is never repacked. A work item is 32 output channels (8 groups of kMr B rows) against
// 32 A rows (one tile of panels); the kernel stores its counts transposed, so the block is
// row-major [A row][channel] and goes through the usual output transform, 4 rows at a time.
void RunSwapped(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                const OutputTransform& transform, const Scheduler& sched) {
  const int64_t n = transform.n;
  const int64_t words = layout.words();
  const int64_t kw64 = words / 2;
  // A's rows: in place, or filled (masked) into a buffer; then interleaved into panels.
  const uint32_t* a_rows = a.Direct(0);
  std::vector<uint32_t> filled;
  if (a_rows == nullptr) {
    filled.resize(static_cast<size_t>(num_rows * words));
    a.Fill(0, num_rows, filled.data(), words);
    a_rows = filled.data();
  }
  const int64_t row_tiles = CeilDiv(num_rows, kNr);
  std::vector<uint64_t>& apanels = PanelBuffer(row_tiles * kPanelsPerTile * kw64 * kPanel);
  PackPanels(a_rows, num_rows, layout, kw64, row_tiles * kPanelsPerTile, apanels.data(), sched);
  // B's last group of fewer than kMr rows, zero-padded (the kernel reads kMr rows).
  const auto* brows = reinterpret_cast<const uint64_t*>(b);
  const int64_t full_groups = n / kMr;
  std::vector<uint64_t> btail(static_cast<size_t>(kMr * kw64), 0);
  if (n > full_groups * kMr) {
    std::memcpy(btail.data(), brows + full_groups * kMr * kw64,
                static_cast<size_t>((n - full_groups * kMr) * kw64) * sizeof(uint64_t));
  }
  // Zero-padding corrections of every row, once (not once per block of columns).
  const int32_t* const* corr = RowCorrections(a, 0, num_rows, row_tiles * kNr);

  const int64_t col_blocks = CeilDiv(n, kNr);
  const TileFn tile = SelectTileFn(ActiveIsa());
  const EpilogueFn epilogue = SelectEpilogueFn(ActiveIsa());
  const uint64_t* const panels = apanels.data();
  ParallelFor(sched, col_blocks * row_tiles, [&](int64_t item) {
    const int64_t n0 = (item / row_tiles) * kNr;  // consecutive items share B's rows
    const int64_t m0 = (item % row_tiles) * kNr;
    const uint64_t* atile = panels + (m0 / kNr) * kPanelsPerTile * kw64 * kPanel;
    alignas(64) int32_t block[kNr * kNr];  // [A row][output channel]: the tile's transpose
    for (int64_t g = 0; g < kNr / kMr && n0 + g * kMr < n; ++g) {
      const int64_t group = n0 / kMr + g;
      tile(group < full_groups ? brows + group * kMr * kw64 : btail.data(), atile, kw64,
           block + g * kMr, /*transposed=*/true);
    }
    const int64_t rows = std::min<int64_t>(kNr, num_rows - m0);
    for (int64_t r0 = 0; r0 < rows; r0 += kMr) {
      const int valid = static_cast<int>(std::min<int64_t>(kMr, rows - r0));
      epilogue(transform, m0 + r0, valid, n0, block + r0 * kNr,
               corr ? corr + m0 + r0 : nullptr);
    }
  });
}

// Rows per block: a multiple of kMr holding about kRowBlockBytes of packed A.
int64_t RowBlock(int64_t num_rows, int64_t kw64) {
  const int64_t fit = std::clamp<int64_t>(kRowBlockBytes / (kw64 * 8) / kMr, 1, kMaxRowBlock / kMr);
  return std::min(fit, CeilDiv(num_rows, kMr)) * kMr;
}

}  // namespace

GemmPath ChooseGemmPath(int64_t num_rows, int64_t n, const RowLayout& layout, bool b_aligned,
                        Isa isa) {
  if (num_rows <= kFewRows) return GemmPath::kRows;
  if (isa == Isa::kAmx && CeilDiv(layout.words(), 2) <= kAmxMaxKw64) {
    if (num_rows >= kAmxStreamMinRows && n >= kAmxStreamMinChannels &&
        num_rows * n >= kAmxStreamMinOutputs) {
      return GemmPath::kAmxStream;
    }
    if (num_rows >= kAmxMinRows && n >= kAmxMinChannels) return GemmPath::kAmx;
  }
  // Swapping broadcasts B's packed rows in place: rows of 64-bit words with no padding bits.
  if (!layout.WholeWords64() || !b_aligned) return GemmPath::kPanels;
  // Counting (rows and columns padded to the tile) plus repacking B, or A when swapped.
  const int64_t kw64 = CeilDiv(layout.words(), 2);
  const int64_t panels = (kCountCost * CeilDiv(num_rows, kMr) * kMr * CeilDiv(n, kNr) * kNr +
                          kRepackCost * n) * kw64;
  const int64_t swapped = (kCountCost * CeilDiv(num_rows, kNr) * kNr * CeilDiv(n, kMr) * kMr +
                           kRepackCost * num_rows) * kw64 + kTransposedCost * num_rows * n;
  return swapped < panels ? GemmPath::kSwapped : GemmPath::kPanels;
}

const char* GemmPathName(GemmPath path) {
  switch (path) {
    case GemmPath::kRows:
      return "rows";
    case GemmPath::kSwapped:
      return "swapped";
    case GemmPath::kAmx:
      return "amx";
    case GemmPath::kAmxStream:
      return "amx_stream";
    default:
      return "panels";
  }
}

int64_t GemmPathLimit(const char* name) {
  const std::string s = name ? name : "";
  if (s == "few_rows") return kFewRows;
  if (s == "amx_min_rows") return kAmxMinRows;
  if (s == "amx_min_channels") return kAmxMinChannels;
  if (s == "amx_stream_min_rows") return kAmxStreamMinRows;
  if (s == "amx_stream_min_channels") return kAmxStreamMinChannels;
  if (s == "amx_stream_min_outputs") return kAmxStreamMinOutputs;
  if (s == "amx_max_k_bits") return kAmxMaxKw64 * 64;
  return -1;
}

void RunBinaryGemm(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                   const OutputTransform& transform, const Scheduler& sched) {
  const int64_t n = transform.n;
  if (num_rows <= 0 || n <= 0) return;
  const bool b_aligned = reinterpret_cast<uintptr_t>(b) % 8 == 0;
  switch (ChooseGemmPath(num_rows, n, layout, b_aligned, ActiveIsa())) {
    case GemmPath::kRows:
      return RunFewRows(a, num_rows, b, layout, transform, sched);
    case GemmPath::kSwapped:
      return RunSwapped(a, num_rows, b, layout, transform, sched);
    case GemmPath::kAmx:
      return RunAmxGemm(a, num_rows, b, layout, transform, sched);
    case GemmPath::kAmxStream:
      return RunAmxStreamGemm(a, num_rows, b, layout, transform, sched);
    default:
      break;
  }
  const int64_t kw64 = CeilDiv(layout.words(), 2);
  const int64_t tiles = CeilDiv(n, kNr);
  const int64_t panels = tiles * kPanelsPerTile;
  std::vector<uint64_t>& panel_buffer = PanelBuffer(panels * kw64 * kPanel);
  const uint64_t* const bpanels = panel_buffer.data();
  PackPanels(b, n, layout, kw64, panels, panel_buffer.data(), sched);

  const int64_t row_block = RowBlock(num_rows, kw64);
  const int64_t mblocks = CeilDiv(num_rows, row_block);
  // Split N as well when there are few row blocks, so every thread gets work.
  const int64_t want_items = 4 * std::max(sched.num_threads, 1);
  int64_t tiles_per_chunk = std::min<int64_t>(tiles, kMaxTilesPerChunk);
  if (mblocks * CeilDiv(tiles, tiles_per_chunk) < want_items) {
    tiles_per_chunk = std::max<int64_t>(1, tiles * mblocks / want_items);
  }
  const int64_t nchunks = CeilDiv(tiles, tiles_per_chunk);
  const TileFn tile = SelectTileFn(ActiveIsa());
  const EpilogueFn epilogue = SelectEpilogueFn(ActiveIsa());

  ParallelFor(sched, mblocks * nchunks, [&](int64_t item) {
    const int64_t m0 = (item / nchunks) * row_block;
    const int64_t t0 = (item % nchunks) * tiles_per_chunk;
    const int64_t t1 = std::min(tiles, t0 + tiles_per_chunk);
    const int64_t rows = std::min(row_block, num_rows - m0);
    const int64_t padded_rows = CeilDiv(rows, kMr) * kMr;
    // Per-thread buffers, reused across items and calls (no allocation in the steady state).
    thread_local std::vector<uint64_t> ablock;
    // A rows: read in place when possible (the whole kMr-row groups), else copied into ablock.
    // The copy is zero-padded to a multiple of kMr rows.
    const auto* direct = reinterpret_cast<const uint64_t*>(a.Direct(m0));
    const int64_t direct_rows = direct ? rows / kMr * kMr : 0;
    ablock.assign(static_cast<size_t>((padded_rows - direct_rows) * kw64), 0);
    if (direct_rows < rows) {
      a.Fill(m0 + direct_rows, rows - direct_rows, reinterpret_cast<uint32_t*>(ablock.data()),
             2 * kw64);
    }
    auto a_rows = [&](int64_t r0) {
      return r0 < direct_rows ? direct + r0 * kw64 : ablock.data() + (r0 - direct_rows) * kw64;
    };
    // Zero-padding corrections of the block's rows ([n] ints each, or nullptr), padded to kMr.
    const int32_t* const* corr = RowCorrections(a, m0, rows, padded_rows);
    alignas(64) int32_t counts[kMr * kNr];
    for (int64_t t = t0; t < t1; ++t) {
      const uint64_t* btile = bpanels + t * kPanelsPerTile * kw64 * kPanel;
      for (int64_t r0 = 0; r0 < rows; r0 += kMr) {
        const int valid = static_cast<int>(std::min<int64_t>(kMr, rows - r0));
        tile(a_rows(r0), btile, kw64, counts, /*transposed=*/false);
        epilogue(transform, m0 + r0, valid, t * kNr, counts, corr ? corr + r0 : nullptr);
      }
    }
  });
}

}  // namespace kb
