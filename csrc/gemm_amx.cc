// AMX path of the binary GEMM (Intel Sapphire Rapids and newer): the +-1 operands are expanded
// from bits to int8 and multiplied on the AMX tile unit (TDPBSSD, int32 accumulators). At peak
// the unit does three times the +-1 products per cycle of AVX-512 xor + popcount, but int8
// operands are 8x the bytes of packed bits, so the kernel is bound by L2 bandwidth; measured on
// a Sapphire Rapids class Xeon, one thread: 1.05-1.29x the AVX-512 kernel from 512 rows and 256
// channels up, even or slower below (gemm_driver.cc chooses).
//
// The result is exact and the same as the popcount kernels': over a row of 64 * kw64 bit
// positions (padding bits zero in both operands, so +1 * +1), dot = 64 * kw64 - 2 * popcount,
// so count = (64 * kw64 - dot) / 2 goes through the usual output transform and corrections.
//
// Layout: B (the packed weights) is expanded once per call into tiles of 16 output channels x
// 64 K positions in AMX's VNNI order (tile row q holds K positions 4q..4q+3 of each of the 16
// channels), [16-channel block][64-bit word of K][16 x 64 bytes]. A work item takes 64 A rows
// and a chunk of channel blocks whose expanded weights fit in L2; it sweeps K in chunks of 16
// words, expanding its rows' chunk into an L1 buffer and running a 2 x 2 tile kernel (four
// 16 x 16 int32 accumulators, kept in memory between chunks) for every 32 rows x 32 channels.
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm_driver.h"
#include "gemm_scratch.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace kb {
namespace {

constexpr int64_t kTileBytes = 1024;  // 16 rows x 64 bytes
constexpr int64_t kPairRows = 32;     // A rows per kernel call (two tiles of 16 rows)
constexpr int64_t kBlockCols = kNr;   // output channels per kernel call (two tiles of 16)
constexpr int64_t kPairs = 2;         // kernel row blocks per work item
constexpr int64_t kBlockRows = kPairs * kPairRows;  // A rows per work item
constexpr int64_t kDotBlock = kPairRows * kBlockCols;  // int32 dots per kernel call
// 64-bit words of K per sweep of a work item's channel blocks (most; chunks are made even).
// Measured on a Sapphire Rapids class Xeon at 12544 x 2304 x 256, one thread: chunks of 16-18
// words 5-8% faster than the whole K (36 words) at once, chunks of 4 slower.
constexpr int64_t kKChunk = 16;
// Expanded weights swept by one work item, for L2 (2 MiB per core on the targeted Xeons;
// 1.5 MiB measured 5-10% faster than 0.75-1 MiB at 512 channels x K = 4608).
constexpr int64_t kWeightChunkBytes = 1536 * 1024;

// Palette 1, tiles 0-7 all 16 rows x 64 bytes: 0-3 accumulators, 4-5 A, 6-7 B.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// The 64 bits of w as 64 int8: +1 for a 0 bit, -1 for a 1 bit.
__attribute__((target("avx512f,avx512bw"))) inline __m512i ExpandBits(uint64_t w) {
  return _mm512_or_si512(_mm512_movm_epi8(_cvtu64_mask64(w)), _mm512_set1_epi8(1));
}

// GCC 12 flags the _mm512_undefined_* inside its unpack intrinsics as (maybe-)uninitialized, in
// the transpose and where it is inlined (a false positive: those lanes are never read).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// In-place transpose of a 16 x 16 matrix of 32-bit elements held as 16 rows.
__attribute__((target("avx512f"))) inline void Transpose16x16(__m512i* r) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4g + j], j < 4: column 4L + j of rows 4g..4g+3 in 128-bit lane L.
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  // v[8h + j]: columns j and j + 8, v[8h + 4 + j]: columns j + 4 and j + 12 (rows 8h..8h+7).
  __m512i v[16];
  for (int h = 0; h < 2; ++h) {
    for (int j = 0; j < 4; ++j) {
      v[8 * h + j] = _mm512_shuffle_i32x4(u[8 * h + j], u[8 * h + 4 + j], 0x88);
      v[8 * h + 4 + j] = _mm512_shuffle_i32x4(u[8 * h + j], u[8 * h + 4 + j], 0xdd);
    }
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm512_shuffle_i32x4(v[j], v[8 + j], 0x88);
    r[j + 8] = _mm512_shuffle_i32x4(v[j], v[8 + j], 0xdd);
    r[j + 4] = _mm512_shuffle_i32x4(v[4 + j], v[12 + j], 0x88);
    r[j + 12] = _mm512_shuffle_i32x4(v[4 + j], v[12 + j], 0xdd);
  }
}

// 64-bit word k of a row of `words` 32-bit words, padding bits cleared (mask: RowMasks); the
// high half of the last word of an odd-length row is zero.
inline uint64_t Word64(const uint32_t* row, int64_t words, int64_t k, const uint32_t* mask) {
  const uint32_t hi = 2 * k + 1 < words ? row[2 * k + 1] & mask[2 * k + 1] : 0;
  return (row[2 * k] & mask[2 * k]) | (static_cast<uint64_t>(hi) << 32);
}

// Expands B's rows [16 * block, 16 * block + 16) into their VNNI tiles, [kw64][16 x 64] int8
// (rows beyond n read as +1s; their outputs are never stored).
__attribute__((target("avx512f,avx512bw"))) void ExpandWeightBlock(
    const uint32_t* b, int64_t n, int64_t words, int64_t kw64, const uint32_t* mask,
    int64_t block, int8_t* out) {
  for (int64_t k = 0; k < kw64; ++k) {
    __m512i r[16];
    for (int i = 0; i < 16; ++i) {
      const int64_t col = 16 * block + i;
      r[i] = ExpandBits(col < n ? Word64(b + col * words, words, k, mask) : 0);
    }
    Transpose16x16(r);
    int8_t* tile = out + k * kTileBytes;
    for (int q = 0; q < 16; ++q) _mm512_store_si512(tile + 64 * q, r[q]);
  }
}

#pragma GCC diagnostic pop

// Expands 64-bit words [k0, k0 + steps) of rows [0, kBlockRows) of `rows` (row stride `stride`
// 32-bit words, masked, odd word counts zero-extended by the caller) into
// [tile of 16 rows][steps][16 x 64] int8.
__attribute__((target("avx512f,avx512bw"))) void ExpandRowChunk(const uint32_t* rows,
                                                                int64_t stride, int64_t k0,
                                                                int64_t steps, int8_t* out) {
  for (int64_t r = 0; r < kBlockRows; ++r) {
    const uint32_t* src = rows + r * stride + 2 * k0;
    int8_t* dst = out + (r / 16) * steps * kTileBytes + (r % 16) * 64;
    for (int64_t k = 0; k < steps; ++k) {
      uint64_t w;
      std::memcpy(&w, src + 2 * k, sizeof(w));
      _mm512_store_si512(dst + k * kTileBytes, ExpandBits(w));
    }
  }
}

// dots[32][32] (row stride kBlockCols) += A's two row tiles . B's two channel tiles over `steps`
// 64-bit words of K (tile stride kTileBytes; A's second row tile a_half bytes after the first,
// B's second channel tile b_half bytes after the first); `first` starts from zero.
__attribute__((target("amx-tile,amx-int8"))) void DotBlock(const int8_t* a, int64_t a_half,
                                                          const int8_t* b, int64_t b_half,
                                                          int64_t steps, bool first,
                                                          int32_t* dots) {
  constexpr int64_t stride = kBlockCols * sizeof(int32_t);
  if (first) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  } else {
    _tile_loadd(0, dots, stride);
    _tile_loadd(1, dots + 16, stride);
    _tile_loadd(2, dots + 16 * kBlockCols, stride);
    _tile_loadd(3, dots + 16 * kBlockCols + 16, stride);
  }
  // Each load is placed just before its first use, so a step's loads can overlap the previous
  // step's last products (2-3% faster than four loads up front, C++ harness).
  for (int64_t k = 0; k < steps; ++k) {
    _tile_loadd(4, a + k * kTileBytes, 64);
    _tile_loadd(6, b + k * kTileBytes, 64);
    _tile_dpbssd(0, 4, 6);
    _tile_loadd(7, b + b_half + k * kTileBytes, 64);
    _tile_dpbssd(1, 4, 7);
    _tile_loadd(5, a + a_half + k * kTileBytes, 64);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  _tile_stored(0, dots, stride);
  _tile_stored(1, dots + 16, stride);
  _tile_stored(2, dots + 16 * kBlockCols, stride);
  _tile_stored(3, dots + 16 * kBlockCols + 16, stride);
}

__attribute__((target("amx-tile"))) void LoadTileConfig() {
  static const TileConfig config;
  _tile_loadconfig(&config);
}

__attribute__((target("amx-tile"))) void ReleaseTiles() { _tile_release(); }

// Dot products -> popcounts, in place: count = (64 * kw64 - dot) / 2 (exact: the difference is
// twice the number of differing bits).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // as above, inside _mm512_srai_epi32
__attribute__((target("avx512f"))) void DotsToCounts(int32_t* block, int64_t kw64) {
  const __m512i bits = _mm512_set1_epi32(static_cast<int32_t>(64 * kw64));
  for (int64_t i = 0; i < kDotBlock; i += 16) {
    const __m512i d = _mm512_load_si512(block + i);
    _mm512_store_si512(block + i, _mm512_srai_epi32(_mm512_sub_epi32(bits, d), 1));
  }
}
#pragma GCC diagnostic pop

// The calling thread's expanded weights, reused across calls like the panel buffer.
std::vector<int8_t, AlignedAllocator<int8_t>>& WeightTiles(int64_t size) {
  thread_local std::vector<int8_t, AlignedAllocator<int8_t>> buffer;
  buffer.resize(static_cast<size_t>(size));
  return buffer;
}

}  // namespace

void RunAmxGemm(const RowSource& a, int64_t num_rows, const uint32_t* b, const RowLayout& layout,
                const OutputTransform& transform, const Scheduler& sched) {
  const int64_t n = transform.n;
  const int64_t words = layout.words();
  const int64_t kw64 = CeilDiv(words, 2);
  const std::vector<uint32_t> mask = RowMasks(layout, 2 * kw64);
  // B: pairs of 16-channel blocks (the kernel takes 32 channels at a time).
  const int64_t col_tiles = CeilDiv(n, kBlockCols);
  auto& wtiles = WeightTiles(2 * col_tiles * kw64 * kTileBytes);
  int8_t* const weights = wtiles.data();
  ParallelFor(sched, 2 * col_tiles, [&](int64_t block) {
    ExpandWeightBlock(b, n, words, kw64, mask.data(), block, weights + block * kw64 * kTileBytes);
  });

  // Work items: a block of kBlockRows rows times a chunk of channel blocks whose expanded
  // weights fit in L2; items go chunk by chunk, so a thread's consecutive items reuse them.
  const int64_t mblocks = CeilDiv(num_rows, kBlockRows);
  const int64_t want_items = 4 * std::max(sched.num_threads, 1);
  const int64_t block_bytes = 2 * kw64 * kTileBytes;  // one channel block, expanded
  int64_t tiles_per_chunk = std::clamp<int64_t>(kWeightChunkBytes / block_bytes, 1, col_tiles);
  tiles_per_chunk = CeilDiv(col_tiles, CeilDiv(col_tiles, tiles_per_chunk));  // even chunks
  if (mblocks * CeilDiv(col_tiles, tiles_per_chunk) < want_items) {
    tiles_per_chunk = std::clamp<int64_t>(col_tiles * mblocks / want_items, 1, tiles_per_chunk);
  }
  const int64_t nchunks = CeilDiv(col_tiles, tiles_per_chunk);
  const EpilogueFn epilogue = SelectEpilogueFn(Isa::kAvx512);
  const int64_t k_chunk = CeilDiv(kw64, CeilDiv(kw64, kKChunk));  // even chunks of <= kKChunk

  ParallelFor(sched, mblocks * nchunks, [&](int64_t item) {
    const int64_t m0 = (item % mblocks) * kBlockRows;
    const int64_t t0 = (item / mblocks) * tiles_per_chunk;
    const int64_t t1 = std::min(col_tiles, t0 + tiles_per_chunk);
    const int64_t rows = std::min(kBlockRows, num_rows - m0);
    // Per-thread buffers, reused across items and calls.
    thread_local std::vector<uint32_t> filled;
    thread_local std::vector<int8_t, AlignedAllocator<int8_t>> arows;
    thread_local std::vector<const int32_t*> corr;
    const uint32_t* src = a.Direct(m0);
    int64_t stride = words;
    if (src == nullptr || rows < kBlockRows) {
      stride = 2 * kw64;
      filled.assign(static_cast<size_t>(kBlockRows * stride), 0);
      a.Fill(m0, rows, filled.data(), stride);
      src = filled.data();
    }
    arows.resize(static_cast<size_t>(kBlockRows / 16 * k_chunk * kTileBytes));
    corr.assign(static_cast<size_t>(CeilDiv(kBlockRows, kMr) * kMr), nullptr);
    const bool any = a.Corrections(m0, rows, CorrectionBuffer(rows * n).data(), corr.data());

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
      ExpandRowChunk(src, stride, k0, steps, arows.data());
      const int64_t a_half = steps * kTileBytes;
      for (int64_t t = t0; t < t1; ++t) {
        for (int64_t g = 0; g < pairs; ++g) {
          DotBlock(arows.data() + 2 * g * a_half, a_half,
                   weights + 2 * t * half + k0 * kTileBytes, half, steps, k0 == 0,
                   dots.data() + ((t - t0) * kPairs + g) * kDotBlock);
        }
      }
    }
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t g = 0; g < pairs; ++g) {
        int32_t* block = dots.data() + ((t - t0) * kPairs + g) * kDotBlock;
        DotsToCounts(block, kw64);
        const int64_t pair_rows = std::min(kPairRows, rows - g * kPairRows);
        for (int64_t r0 = 0; r0 < pair_rows; r0 += kMr) {
          const int valid = static_cast<int>(std::min<int64_t>(kMr, pair_rows - r0));
          const int64_t row = g * kPairRows + r0;
          epilogue(transform, m0 + row, valid, t * kBlockCols, block + r0 * kBlockCols,
                   any ? corr.data() + row : nullptr);
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
}  // namespace kb
#endif
