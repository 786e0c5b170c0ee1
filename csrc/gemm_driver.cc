#include "gemm_driver.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace kb {
namespace {

constexpr int64_t kRowBlock = 64;  // rows of A per work item (multiple of kMr)

// Interleaves B rows into panels of kPanel columns: panel[p][k64][c], zero beyond n.
void PackPanels(const uint32_t* b, int64_t n, const RowLayout& layout, int64_t kw64,
                int64_t panels, uint64_t* out, const Scheduler& sched) {
  const int64_t words = layout.words();
  ParallelFor(sched, panels, [&](int64_t p) {
    uint64_t* dst = out + p * kw64 * kPanel;
    for (int c = 0; c < kPanel; ++c) {
      const int64_t col = p * kPanel + c;
      const uint32_t* src = col < n ? b + col * words : nullptr;
      for (int64_t k = 0; k < kw64; ++k) {
        uint64_t lo = 0, hi = 0;
        if (src && 2 * k < words) lo = src[2 * k] & layout.Mask(2 * k);
        if (src && 2 * k + 1 < words) hi = src[2 * k + 1] & layout.Mask(2 * k + 1);
        dst[k * kPanel + c] = lo | (hi << 32);
      }
    }
  });
}

}  // namespace

void RunBinaryGemm(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                   const OutputTransform& transform, const Scheduler& sched) {
  const int64_t n = transform.n;
  if (num_rows <= 0 || n <= 0) return;
  const int64_t kw64 = CeilDiv(layout.words(), 2);
  const int64_t tiles = CeilDiv(n, kNr);
  const int64_t panels = tiles * kPanelsPerTile;
  std::vector<uint64_t> bpanels(static_cast<size_t>(panels * kw64 * kPanel));
  PackPanels(b, n, layout, kw64, panels, bpanels.data(), sched);

  const int64_t row_block = std::min<int64_t>(kRowBlock, CeilDiv(num_rows, kMr) * kMr);
  const int64_t mblocks = CeilDiv(num_rows, row_block);
  // Split N as well when there are few row blocks, so every thread gets work.
  const int64_t want_items = 4 * std::max(sched.num_threads, 1);
  int64_t tiles_per_chunk = std::min<int64_t>(tiles, 8);
  if (mblocks * CeilDiv(tiles, tiles_per_chunk) < want_items) {
    tiles_per_chunk = std::max<int64_t>(1, tiles * mblocks / want_items);
  }
  const int64_t nchunks = CeilDiv(tiles, tiles_per_chunk);
  const TileFn tile = SelectTileFn(ActiveIsa());

  ParallelFor(sched, mblocks * nchunks, [&](int64_t item) {
    const int64_t m0 = (item / nchunks) * row_block;
    const int64_t t0 = (item % nchunks) * tiles_per_chunk;
    const int64_t t1 = std::min(tiles, t0 + tiles_per_chunk);
    const int64_t rows = std::min(row_block, num_rows - m0);
    const int64_t padded_rows = CeilDiv(rows, kMr) * kMr;
    std::vector<uint64_t> ablock(static_cast<size_t>(padded_rows * kw64), 0);
    a.Fill(m0, rows, reinterpret_cast<uint32_t*>(ablock.data()), 2 * kw64);
    std::vector<int32_t> scratch(static_cast<size_t>(kMr * n));
    int64_t counts[kMr * kNr];
    for (int64_t r0 = 0; r0 < rows; r0 += kMr) {
      const int valid = static_cast<int>(std::min<int64_t>(kMr, rows - r0));
      const int32_t* corr[kMr] = {nullptr, nullptr, nullptr, nullptr};
      bool any = false;
      for (int r = 0; r < valid; ++r) {
        corr[r] = a.Correction(m0 + r0 + r, scratch.data() + r * n);
        any = any || corr[r] != nullptr;
      }
      for (int64_t t = t0; t < t1; ++t) {
        tile(ablock.data() + r0 * kw64, bpanels.data() + t * kPanelsPerTile * kw64 * kPanel,
             kw64, counts);
        transform.Apply(m0 + r0, valid, t * kNr, counts, any ? corr : nullptr);
      }
    }
  });
}

}  // namespace kb
