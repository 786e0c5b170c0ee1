// Shared pieces of the AMX paths of the binary GEMM (gemm_amx.cc, gemm_amx_stream.cc): the
// operands' bits expanded to bytes in AMX's tile layouts, and a 2 x 2 tile kernel (TDPBSSD,
// int32 accumulators).
//
// Bits are expanded to 0/1 bytes, not +-1: the products then count the positions where both
// operands have a 1 bit, dot = popcount(a & b), and popcount(a ^ b) = popcount(a) +
// popcount(b) - 2 * dot, exact, with padding bits zero in both. The output transform takes the
// dots directly (EmitDotBlock: the same int32 accumulators, then the usual corrections and
// float steps), so results are the popcount kernels' bit for bit. 0/1 rather than +-1 because
// the tile unit's rate depends on the data and is higher on 0/1 bytes
// (benchmarks/amx_tile_rate.cc; docs/performance-notes.md, "AMX paths").
//
// Tiles are 16 rows x 64 bytes. A tile of A holds 16 rows x 64 K positions (byte p of a row: K
// position p); a tile of B holds 16 output channels x 64 K positions in VNNI order (tile row q
// holds K positions 4q..4q+3 of each of the 16 channels).
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gemm_driver.h"
#include "kb_common.h"
#include "output_transform.h"
#include "output_transform_avx512.h"

namespace kb {
namespace amx {

constexpr int64_t kTileBytes = 1024;  // 16 rows x 64 bytes
constexpr int64_t kPairRows = 32;     // A rows per kernel call (two tiles of 16 rows)
constexpr int64_t kBlockCols = kNr;   // output channels per kernel call (two tiles of 16)
constexpr int64_t kDotBlock = kPairRows * kBlockCols;  // int32 dots per kernel call
constexpr int64_t kWeightChunkWords = 8;  // most 64-bit words of K per ExpandWeightChunk

// Palette 1, tiles 0-7 all 16 rows x 64 bytes: 0-3 accumulators, 4-5 A, 6-7 B.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// The 64 bits of w as 64 bytes, 1 for a 1 bit and 0 for a 0 bit.
__attribute__((target("avx512f,avx512bw"))) inline __m512i ExpandBits(uint64_t w) {
  return _mm512_maskz_mov_epi8(_cvtu64_mask64(w), _mm512_set1_epi8(1));
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

#pragma GCC diagnostic pop

// Expands 64-bit words [k0, k0 + steps) of rows [0, num_rows) of `rows` (row stride `stride`
// 32-bit words, masked, odd word counts zero-extended by the caller; num_rows a multiple of 16)
// into [tile of 16 rows][steps][16 x 64] bytes, and adds each row's popcount over those words
// to popcounts[r].
__attribute__((target("avx512f,avx512bw,popcnt"))) inline void ExpandRowChunk(
    const uint32_t* rows, int64_t stride, int64_t num_rows, int64_t k0, int64_t steps,
    int8_t* out, int32_t* popcounts) {
  for (int64_t r = 0; r < num_rows; ++r) {
    const uint32_t* src = rows + r * stride + 2 * k0;
    int8_t* dst = out + (r / 16) * steps * kTileBytes + (r % 16) * 64;
    int64_t ones = 0;
    for (int64_t k = 0; k < steps; ++k) {
      uint64_t w;
      std::memcpy(&w, src + 2 * k, sizeof(w));
      ones += _mm_popcnt_u64(w);
      _mm512_store_si512(dst + k * kTileBytes, ExpandBits(w));
    }
    popcounts[r] += static_cast<int32_t>(ones);
  }
}

// One VNNI tile of B from 16 channels' 64-bit word k (lo: their low halves, hi: their high
// halves). Tile row q holds bits 4q..4q+3 of each channel as four 0/1 bytes: the nibble indexes
// a table of the 16 possible dwords (vpermd reads the low 4 bits of each index).
__attribute__((target("avx512f"))) inline void ExpandWeightTile(__m512i lo, __m512i hi,
                                                                int8_t* tile) {
  alignas(64) static const uint32_t kNibbles[16] = {
      0x00000000, 0x00000001, 0x00000100, 0x00000101, 0x00010000, 0x00010001,
      0x00010100, 0x00010101, 0x01000000, 0x01000001, 0x01000100, 0x01000101,
      0x01010000, 0x01010001, 0x01010100, 0x01010101};
  const __m512i table = _mm512_load_si512(kNibbles);
  for (int q = 0; q < 8; ++q) {
    _mm512_store_si512(tile + 64 * q,
                       _mm512_permutexvar_epi32(_mm512_srli_epi32(lo, 4 * q), table));
    _mm512_store_si512(tile + 64 * (q + 8),
                       _mm512_permutexvar_epi32(_mm512_srli_epi32(hi, 4 * q), table));
  }
}

#pragma GCC diagnostic push  // as for Transpose16x16
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Expands 64-bit words [k0, k0 + steps) (steps <= kWeightChunkWords: the 16 32-bit words of one
// transpose) of B's rows [16 * block, 16 * block + 16) into VNNI tiles, [steps][16 x 64] bytes,
// straight from B's packed rows: 16 words of each row (masked; zero beyond the row and for rows
// beyond n) transposed so that each register holds one word of all 16 channels. Adds the 16
// rows' popcounts over those words to ones[16].
__attribute__((target("avx512f,avx512vpopcntdq"))) inline void ExpandWeightChunk(
    const uint32_t* b, int64_t n, int64_t words, const uint32_t* mask, int64_t block, int64_t k0,
    int64_t steps, int8_t* out, int32_t* ones) {
  const int64_t j0 = 2 * k0;
  const int64_t valid = std::clamp<int64_t>(words - j0, 0, 16);
  const __mmask16 load = static_cast<__mmask16>((1u << valid) - 1);
  const __m512i m = _mm512_maskz_loadu_epi32(load, mask + j0);
  __m512i r[16];
  for (int i = 0; i < 16; ++i) {
    const int64_t col = 16 * block + i;
    r[i] = col < n ? _mm512_and_si512(_mm512_maskz_loadu_epi32(load, b + col * words + j0), m)
                   : _mm512_setzero_si512();
  }
  Transpose16x16(r);  // r[j]: 32-bit word j0 + j of the 16 channels
  __m512i count = _mm512_loadu_si512(ones);
  for (int64_t k = 0; k < steps; ++k) {
    count = _mm512_add_epi32(count, _mm512_popcnt_epi32(r[2 * k]));
    count = _mm512_add_epi32(count, _mm512_popcnt_epi32(r[2 * k + 1]));
    ExpandWeightTile(r[2 * k], r[2 * k + 1], out + k * kTileBytes);
  }
  _mm512_storeu_si512(ones, count);
}
#pragma GCC diagnostic pop

// Which operand of DotBlock streams from L2 (the other is reused from L1): B, the weights, in
// gemm_amx.cc; A, the rows expanded for the whole K, in gemm_amx_stream.cc.
enum class Streamed { kA, kB };

// KB_LOAD_OPERAND(tile, stream, p) loads tile `tile` (a literal: GCC's tile intrinsics paste it
// into the instruction) from p; with `stream` as TILELOADDT1, whose hint that the data will not
// be reused soon keeps the streamed operand from evicting the reused operand and the
// accumulators from L1. The hint goes on the streamed operand only: on the reused one it is
// slower (docs/performance-notes.md, "AMX paths").
#define KB_LOAD_OPERAND(tile, stream, p) \
  do {                                   \
    if constexpr (stream) {              \
      _tile_stream_loadd(tile, p, 64);   \
    } else {                             \
      _tile_loadd(tile, p, 64);          \
    }                                    \
  } while (0)

// dots[32][32] (row stride kBlockCols) += A's two row tiles . B's two channel tiles over `steps`
// 64-bit words of K (tile stride kTileBytes; A's second row tile a_half bytes after the first,
// B's second channel tile b_half bytes after the first); `first` starts from zero. The
// kStreamed operand's tiles are loaded with the streaming hint (KB_LOAD_OPERAND).
//
// Calls can be chained: with next_a and next_b set, this call leaves the next call's first-step
// operand tiles (A at next_a, B at next_b, same halves) loaded, and the next call, made with
// `preloaded`, starts from them. Those loads are issued before this call's accumulator stores,
// so their latency (B streams from L2, and in the streamed path A does) overlaps the stores
// rather than following them (docs/performance-notes.md, "AMX paths").
template <Streamed kStreamed>
__attribute__((target("amx-tile,amx-int8"))) inline void DotBlock(
    const int8_t* a, int64_t a_half, const int8_t* b, int64_t b_half, int64_t steps, bool first,
    int32_t* dots, bool preloaded = false, const int8_t* next_a = nullptr,
    const int8_t* next_b = nullptr) {
  constexpr int64_t stride = kBlockCols * sizeof(int32_t);
  constexpr bool kStreamA = kStreamed == Streamed::kA, kStreamB = kStreamed == Streamed::kB;
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
  // step's last products. The products use B's first tile twice, then its second, so that each
  // B tile (gemm_amx.cc's operand that streams from L2) is free two products before the next
  // step needs it again, not one (as if a tile register could be reloaded only once the products
  // reading it are done; docs/performance-notes.md, "AMX paths").
  for (int64_t k = 0; k < steps; ++k) {
    const bool load = k > 0 || !preloaded;
    if (load) {
      KB_LOAD_OPERAND(4, kStreamA, a + k * kTileBytes);
      KB_LOAD_OPERAND(6, kStreamB, b + k * kTileBytes);
    }
    _tile_dpbssd(0, 4, 6);
    if (load) KB_LOAD_OPERAND(5, kStreamA, a + a_half + k * kTileBytes);
    _tile_dpbssd(2, 5, 6);
    if (load) KB_LOAD_OPERAND(7, kStreamB, b + b_half + k * kTileBytes);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(3, 5, 7);
  }
  if (next_a != nullptr && next_b != nullptr) {
    KB_LOAD_OPERAND(4, kStreamA, next_a);
    KB_LOAD_OPERAND(6, kStreamB, next_b);
    KB_LOAD_OPERAND(5, kStreamA, next_a + a_half);
    KB_LOAD_OPERAND(7, kStreamB, next_b + b_half);
  }
  _tile_stored(0, dots, stride);
  _tile_stored(1, dots + 16, stride);
  _tile_stored(2, dots + 16 * kBlockCols, stride);
  _tile_stored(3, dots + 16 * kBlockCols + 16, stride);
}

#undef KB_LOAD_OPERAND

__attribute__((target("amx-tile"))) inline void LoadTileConfig() {
  static const TileConfig config;
  _tile_loadconfig(&config);
}

__attribute__((target("amx-tile"))) inline void ReleaseTiles() { _tile_release(); }

// acc = k - 2 * popcount(a ^ b) of 16 channels of a dot block's row, from the AMX dot
// popcount(a & b): popcount(a ^ b) = a_ones + b_ones - 2 * dot, so acc = 4 * dot + (k - 2 *
// a_ones[r]) - 2 * b_ones[c] (exact in int32).
struct AccFromDots {
  const int32_t* dots;  // [kPairRows][kBlockCols]
  const int32_t* a_ones;
  __m512i col_term[2];  // -2 * b_ones of the block's two halves
  int32_t k;
  __attribute__((target("avx512f"))) __m512i operator()(int r, int h) const {
    const __m512i dot = _mm512_load_si512(dots + r * kBlockCols + h * 16);
    const __m512i row_term = _mm512_set1_epi32(k - 2 * a_ones[r]);
    // maskz with a full mask: GCC 12 flags the unmasked shift's undefined source lanes.
    const __m512i four_dot = _mm512_maskz_slli_epi32(0xffff, dot, 2);
    return _mm512_add_epi32(_mm512_add_epi32(four_dot, row_term), col_term[h]);
  }
};

// A kernel call's block of dots, rows [0, rows) of 32 rows x 32 channels, through the output
// transform: block row r is output row m0 + r (corr: its corrections, or nullptr), channels
// from n0. A block cut by the end of N is turned into popcounts in place for the plain version.
__attribute__((target("avx512f"))) inline void EmitDotBlock(
    int32_t* block, const int32_t* a_ones, const int32_t* b_ones, int64_t rows,
    const OutputTransform& transform, int64_t m0, int64_t n0, const int32_t* const* corr) {
  if (transform.n - n0 >= kBlockCols) {
    AccFromDots acc{block, a_ones, {}, static_cast<int32_t>(transform.k)};
    for (int h = 0; h < 2; ++h) {
      const __m512i b = _mm512_loadu_si512(b_ones + h * 16);
      acc.col_term[h] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_add_epi32(b, b));
    }
    return ApplyRowsAvx512(transform, m0, static_cast<int>(rows), n0, corr, acc);
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < kBlockCols; ++c) {
      int32_t& v = block[r * kBlockCols + c];
      v = a_ones[r] + b_ones[c] - 2 * v;
    }
  }
  transform.Apply(m0, static_cast<int>(rows), n0, block, corr);  // rows of kBlockCols = kNr
}

// Rows [m0, m0 + rows) of `a` as whole 64-bit words (kw64 per row) for ExpandRowChunk, which
// reads `padded` >= rows rows: in place when `a` allows and no padding row is needed, else
// filled into this thread's buffer (zero rows beyond `rows`). Sets *stride (32-bit words).
inline const uint32_t* RowsForExpansion(const RowSource& a, int64_t m0, int64_t rows,
                                        int64_t padded, int64_t words, int64_t kw64,
                                        int64_t* stride) {
  thread_local std::vector<uint32_t> filled;
  const uint32_t* direct = a.Direct(m0);
  if (direct != nullptr && rows == padded) {
    *stride = words;
    return direct;
  }
  *stride = 2 * kw64;
  filled.assign(static_cast<size_t>(padded * *stride), 0);
  a.Fill(m0, rows, filled.data(), *stride);
  return filled.data();
}

}  // namespace amx
}  // namespace kb
#endif
