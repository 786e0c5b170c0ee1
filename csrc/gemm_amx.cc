// AMX path of the binary GEMM (Intel Sapphire Rapids and newer) with the weights expanded once
// per call: both operands' bits are expanded to bytes and multiplied on the AMX tile unit
// (gemm_amx_tiles.h). At peak the unit does three times the binary products per cycle of
// AVX-512 xor + popcount, but bytes are 8x the size of packed bits, and the unit runs near its
// nominal rate only with its operands in L1 and the accumulators kept in tiles; it does not
// overlap the AVX-512 work around it (expansions, output transform). gemm_driver.cc chooses
// this path; many channels go to gemm_amx_stream.cc (benchmarks/amx_tile_rate.cc,
// benchmarks/bench_gemm_paths.py; docs/performance-notes.md, "AMX paths").
//
// Layout: each thread expands the chunks of B (the packed weights) it works on into VNNI tiles
// in its own buffer, once per call (ExpandWeightChunk, as the streamed path does per K chunk),
// [16-channel block][64-bit word of K][16 x 64 bytes]. A work item takes 32 A rows and a chunk
// of channel blocks whose expanded weights fit in L2; it sweeps K in chunks (kKChunk words, or
// kLongSweepKChunk for long sweeps), expanding its rows' chunk into an L1 buffer and running a
// 2 x 2 tile kernel (four 16 x 16 int32 accumulators, kept in memory between chunks) for every
// 32 channels; in the last chunk each block's dots go through the output transform right after
// its tile call. The rows' chunk stays in L1 while the weights stream from L2 past it, loaded
// with a no-reuse hint so that they do not evict it: the accumulator stores, cheap with operands
// in L1, cost far more when both operands stream from L2 (benchmarks/amx_tile_rate.cc).
#include <algorithm>
#include <atomic>
#include <vector>

#include "gemm_amx_tiles.h"
#include "gemm_driver.h"
#include "gemm_scratch.h"

#if defined(__x86_64__)

namespace kb {
namespace {

using namespace amx;  // NOLINT: the shared tile pieces

constexpr int64_t kPairs = 1;         // kernel row blocks per work item
constexpr int64_t kBlockRows = kPairs * kPairRows;  // A rows per work item
// 64-bit words of K per sweep of a work item's channel blocks (most; chunks are made even): a
// 32-row chunk of 9 words (18 KiB) stays in L1 beside one channel pair's chunk, so only the
// weights stream from L2 (the fastest of 6-12 words; docs/performance-notes.md, "AMX paths").
constexpr int64_t kKChunk = 9;
// Items that sweep at least kLongSweepBlocks channel pairs take chunks of up to
// kLongSweepKChunk words when K is longer: the weights, loaded with the no-reuse hint
// (gemm_amx_tiles.h), need no room in L1, so a 36 KiB rows' chunk fits and the accumulators are
// stored half as often. With fewer pairs the longer chunk does not pay (same page).
constexpr int64_t kLongSweepBlocks = 8;
constexpr int64_t kLongSweepKChunk = 18;
// Expanded weights swept by one work item, sized for L2 (2 MiB per core on the targeted Xeons)
// with room left for the rows and the output (same page).
constexpr int64_t kWeightChunkBytes = 1536 * 1024;

// A thread's expanded weights: channel pairs [t0, t1) of one call, [block][K word][16 x 64]
// bytes, and their channels' popcounts. Each thread expands the chunks it works on itself, so
// that no product reads weights another core has just written (shared out, that made two
// threads slower than one: bench_gemm_paths.py --threads all).
struct ExpandedWeights {
  uint64_t call = 0;
  int64_t t0 = -1;
  std::vector<int8_t, AlignedAllocator<int8_t>> tiles;
  std::vector<int32_t> ones;
};

std::atomic<uint64_t> calls{0};  // numbers RunAmxGemm's calls, for ExpandedWeights

// This thread's expanded weights for channel pairs [t0, t1) of call `call`, expanded now unless
// they already are.
const ExpandedWeights& ThreadWeights(uint64_t call, int64_t t0, int64_t t1, const uint32_t* b,
                                     int64_t n, int64_t words, int64_t kw64,
                                     const uint32_t* mask) {
  thread_local ExpandedWeights w;
  if (w.call == call && w.t0 == t0) return w;
  w.tiles.resize(static_cast<size_t>(2 * (t1 - t0) * kw64 * kTileBytes));
  w.ones.assign(static_cast<size_t>((t1 - t0) * kBlockCols), 0);
  for (int64_t block = 2 * t0; block < 2 * t1; ++block) {
    const int64_t local = block - 2 * t0;
    for (int64_t k0 = 0; k0 < kw64; k0 += kWeightChunkWords) {
      ExpandWeightChunk(b, n, words, mask, block, k0, std::min(kWeightChunkWords, kw64 - k0),
                        w.tiles.data() + (local * kw64 + k0) * kTileBytes,
                        w.ones.data() + 16 * local);
    }
  }
  w.call = call;
  w.t0 = t0;
  return w;
}

}  // namespace

void RunAmxGemm(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                const OutputTransform& transform, const Scheduler& sched) {
  const int64_t n = transform.n;
  const int64_t words = layout.words();
  const int64_t kw64 = CeilDiv(words, 2);
  const std::vector<uint32_t> mask = RowMasks(layout, 2 * kw64);
  const uint64_t call = ++calls;
  // B: pairs of 16-channel blocks (the kernel takes 32 channels at a time).
  const int64_t col_tiles = CeilDiv(n, kBlockCols);

  // Work items: a block of kBlockRows rows times a chunk of channel pairs whose expanded
  // weights fit in L2; items go chunk by chunk, so a thread's consecutive items reuse them.
  // With fewer row blocks than 4 items per thread, the channels are split into more chunks.
  const int64_t mblocks = CeilDiv(num_rows, kBlockRows);
  const int64_t want_items = 4 * std::max(sched.num_threads, 1);
  const int64_t block_bytes = 2 * kw64 * kTileBytes;  // one channel pair, expanded
  int64_t nchunks = CeilDiv(col_tiles, std::max<int64_t>(kWeightChunkBytes / block_bytes, 1));
  nchunks = std::clamp<int64_t>(CeilDiv(want_items, mblocks), nchunks, col_tiles);
  const int64_t tiles_per_chunk = CeilDiv(col_tiles, nchunks);
  nchunks = CeilDiv(col_tiles, tiles_per_chunk);
  const bool long_sweep = tiles_per_chunk >= kLongSweepBlocks && kw64 > kLongSweepKChunk;
  const int64_t max_chunk = long_sweep ? kLongSweepKChunk : kKChunk;
  const int64_t k_chunk = CeilDiv(kw64, CeilDiv(kw64, max_chunk));  // even chunks, <= max_chunk

  ParallelFor(sched, mblocks * nchunks, [&](int64_t item) {
    const int64_t m0 = (item % mblocks) * kBlockRows;
    const int64_t t0 = (item / mblocks) * tiles_per_chunk;
    const int64_t t1 = std::min(col_tiles, t0 + tiles_per_chunk);
    const int64_t rows = std::min(kBlockRows, num_rows - m0);
    const ExpandedWeights& w = ThreadWeights(call, t0, t1, b, n, words, kw64, mask.data());
    // Per-thread buffers, reused across items and calls.
    thread_local std::vector<int8_t, AlignedAllocator<int8_t>> arows;
    thread_local std::vector<int32_t> a_ones;
    int64_t stride = 0;
    const uint32_t* src = RowsForExpansion(a, m0, rows, kBlockRows, words, kw64, &stride);
    arows.resize(static_cast<size_t>(kBlockRows / 16 * k_chunk * kTileBytes));
    a_ones.assign(kBlockRows, 0);
    const int32_t* const* corr = RowCorrections(a, m0, rows, CeilDiv(kBlockRows, kMr) * kMr);

    // Dots of (channel block t, row pair g) at dots + ((t - t0) * kPairs + g) * kDotBlock.
    // K is swept in chunks: the rows' chunk is expanded into a buffer that stays in L1 while the
    // channel blocks' chunks stream from L2 past it, at the cost of storing and reloading the
    // accumulators.
    thread_local std::vector<int32_t, AlignedAllocator<int32_t>> dots;
    dots.resize(static_cast<size_t>((t1 - t0) * kPairs * kDotBlock));
    const int64_t half = kw64 * kTileBytes;  // bytes from one 16-channel tile of B to the next
    const int64_t pairs = CeilDiv(rows, kPairRows);
    LoadTileConfig();
    for (int64_t k0 = 0; k0 < kw64; k0 += k_chunk) {
      const int64_t steps = std::min(k_chunk, kw64 - k0);
      ExpandRowChunk(src, stride, kBlockRows, k0, steps, arows.data(), a_ones.data());
      const int64_t a_half = steps * kTileBytes;
      // The chunk's kernel calls, chained (DotBlock): block i = (t - t0) * pairs + g.
      const int64_t blocks = (t1 - t0) * pairs;
      const auto a_at = [&](int64_t i) { return arows.data() + 2 * (i % pairs) * a_half; };
      const auto b_at = [&](int64_t i) {
        return w.tiles.data() + 2 * (i / pairs) * half + k0 * kTileBytes;
      };
      // In the last chunk each block goes through the output transform as soon as its tile call
      // has stored it (a_ones is complete once the last chunk is expanded), while its dots are
      // still in L1, rather than all blocks after the sweep.
      const bool last = k0 + steps >= kw64;
      for (int64_t i = 0; i < blocks; ++i) {
        const int64_t t = t0 + i / pairs, g = i % pairs;
        const bool chained = i + 1 < blocks;
        int32_t* block = dots.data() + ((t - t0) * kPairs + g) * kDotBlock;
        DotBlock<Streamed::kB>(a_at(i), a_half, b_at(i), half, steps, k0 == 0, block, i > 0,
                               chained ? a_at(i + 1) : nullptr, chained ? b_at(i + 1) : nullptr);
        if (last) {
          EmitDotBlock(block, a_ones.data() + g * kPairRows, w.ones.data() + (t - t0) * kBlockCols,
                       std::min(kPairRows, rows - g * kPairRows), transform, m0 + g * kPairRows,
                       t * kBlockCols, corr ? corr + g * kPairRows : nullptr);
        }
      }
    }
    ReleaseTiles();
  });
}

}  // namespace kb

#else
#include <cstdlib>
namespace kb {
// Unreachable: CpuSupports(Isa::kAmx) is false off x86-64, so the driver never chooses AMX.
void RunAmxGemm(const RowSource&, int64_t, const uint32_t*, const RowLayout&,
                const OutputTransform&, const Scheduler&) {
  std::abort();
}
void RunAmxStreamGemm(const RowSource&, int64_t, const uint32_t*, const RowLayout&,
                      const OutputTransform&, const Scheduler&) {
  std::abort();
}
}  // namespace kb
#endif
