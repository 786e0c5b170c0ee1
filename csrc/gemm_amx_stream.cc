// Streamed-weights AMX path of the binary GEMM (RunAmxStreamGemm): for products with many
// output channels, where expanding all of B to bytes once per call (gemm_amx.cc) would be more
// bytes than L2 holds, B stays packed and each channel pair's weights are expanded chunk by
// chunk into an L1 buffer just before use, straight from B's rows (a 16 x 16 transpose of
// 32-bit words per 16 channels and 8 words of K, then one table lookup per tile row). A work
// item takes up to kStreamRows A rows, expanded to bytes for the whole K (read from L2), and a
// chunk of channel pairs; for each chunk of a pair's weights it runs the 2 x 2 tile kernel down
// all its row pairs.
#include <algorithm>
#include <vector>

#include "gemm_amx_tiles.h"
#include "gemm_driver.h"
#include "gemm_scratch.h"

#if defined(__x86_64__)

namespace kb {
namespace {

using namespace amx;  // NOLINT: the shared tile pieces

// A rows per work item, expanded for the whole K (read from L2): each chunk of expanded weights
// serves 4 row pairs; 64 rows repay the expansion less, and 256 or more measured slower
// (docs/performance-notes.md, "AMX paths").
constexpr int64_t kStreamRows = 128;

}  // namespace

void RunAmxStreamGemm(const RowSource& a, int64_t num_rows, const uint32_t* b,
                      const RowLayout& layout, const OutputTransform& transform,
                      const Scheduler& sched) {
  const int64_t n = transform.n;
  const int64_t words = layout.words();
  const int64_t kw64 = CeilDiv(words, 2);
  const std::vector<uint32_t> mask = RowMasks(layout, 2 * kw64);
  const int64_t col_tiles = CeilDiv(n, kBlockCols);
  const int64_t row_block = std::min(kStreamRows, CeilDiv(num_rows, kPairRows) * kPairRows);
  const int64_t mblocks = CeilDiv(num_rows, row_block);
  const int64_t want_items = 4 * std::max(sched.num_threads, 1);
  const int64_t per_chunk = std::max<int64_t>(1, col_tiles * mblocks / want_items);
  const int64_t nchunks = CeilDiv(col_tiles, per_chunk);
  const int64_t k_chunk = CeilDiv(kw64, CeilDiv(kw64, kWeightChunkWords));

  ParallelFor(sched, mblocks * nchunks, [&](int64_t item) {
    const int64_t m0 = (item / nchunks) * row_block;
    const int64_t t0 = (item % nchunks) * per_chunk;
    const int64_t t1 = std::min(col_tiles, t0 + per_chunk);
    const int64_t rows = std::min(row_block, num_rows - m0);
    const int64_t padded = CeilDiv(rows, kPairRows) * kPairRows;
    thread_local std::vector<int8_t, AlignedAllocator<int8_t>> arows, btiles;
    thread_local std::vector<int32_t, AlignedAllocator<int32_t>> dots;
    thread_local std::vector<int32_t> a_ones;
    int64_t stride = 0;
    const uint32_t* src = RowsForExpansion(a, m0, rows, padded, words, kw64, &stride);
    // The block's rows for the whole K, [row tile][kw64][16 x 64]: streamed from L2 past each
    // channel pair's expanded weights, which stay in L1.
    arows.resize(static_cast<size_t>(padded / 16 * kw64 * kTileBytes));
    a_ones.assign(static_cast<size_t>(padded), 0);
    ExpandRowChunk(src, stride, padded, 0, kw64, arows.data(), a_ones.data());
    const int32_t* const* corr = RowCorrections(a, m0, rows, CeilDiv(padded, kMr) * kMr);
    const int64_t pairs = padded / kPairRows;
    dots.resize(static_cast<size_t>(pairs * kDotBlock));
    btiles.resize(static_cast<size_t>(2 * k_chunk * kTileBytes));
    const int64_t a_half = kw64 * kTileBytes;
    LoadTileConfig();
    for (int64_t t = t0; t < t1; ++t) {
      alignas(64) int32_t b_ones[kBlockCols] = {};  // the pair's channel popcounts
      for (int64_t k0 = 0; k0 < kw64; k0 += k_chunk) {
        const int64_t steps = std::min(k_chunk, kw64 - k0);
        for (int64_t h = 0; h < 2; ++h) {
          ExpandWeightChunk(b, n, words, mask.data(), 2 * t + h, k0, steps,
                            btiles.data() + h * steps * kTileBytes, b_ones + 16 * h);
        }
        // Chained (DotBlock): each call loads the next row pair's first A tiles from L2.
        const auto a_at = [&](int64_t g) {
          return arows.data() + (2 * g * kw64 + k0) * kTileBytes;
        };
        // In the last chunk (b_ones complete) each block goes through the output transform
        // right after its tile call, while its dots are in L1, as in gemm_amx.cc.
        const bool last = k0 + steps >= kw64;
        for (int64_t g = 0; g < pairs; ++g) {
          const bool chained = g + 1 < pairs;
          int32_t* block = dots.data() + g * kDotBlock;
          DotBlock<Streamed::kA>(a_at(g), a_half, btiles.data(), steps * kTileBytes, steps,
                                 k0 == 0, block, g > 0, chained ? a_at(g + 1) : nullptr,
                                 chained ? btiles.data() : nullptr);
          if (last) {
            EmitDotBlock(block, a_ones.data() + g * kPairRows, b_ones,
                         std::min(kPairRows, rows - g * kPairRows), transform,
                         m0 + g * kPairRows, t * kBlockCols, corr ? corr + g * kPairRows : nullptr);
          }
        }
      }
    }
    ReleaseTiles();
  });
}

}  // namespace kb

#endif  // the non-x86-64 stub is in gemm_amx.cc
