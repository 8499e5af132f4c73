// Matrix products over tiled bf16 weights on the AMX units. x (or its token-shift mix) is rounded
// to bf16 once per call into a zero-padded copy in tile order; the threads take pairs of 16-column
// weight blocks (over row slices) one at a time and compute 32 x 32 output blocks with the usual
// 2 x 2 tile blocking (4 accumulator tiles, 2 A tiles, 2 B tiles). Both operands are stored tile by
// tile, so every tile load reads one contiguous kilobyte, a pattern the prefetchers follow. Each
// output tile goes through the job's epilogue (bias, activation, accumulation) on its way out.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/epilogue_avx512.h"
#include "ops/linear.h"
#include "ops/tiles.h"

namespace gander::ops::detail {

namespace {
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// All eight tiles 16 rows x 64 bytes: C (0-3) 16x16 f32, A (4-5) 16x32 bf16, B (6-7) 16 pairs x 16.
void configure_tiles() {
  TileConfig cfg;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  _tile_loadconfig(&cfg);
}

constexpr int64_t kBlockM = 32;

// Row r of the input (x, or its token-shift mix), rounded to bf16, into the A operand's tile
// order: 16-row blocks, each a run of kb tiles of 16 rows x 32 columns (1 KB, one 64-byte line per
// row), so that every tile load reads one contiguous kilobyte. Rows past M and columns past K are
// zero.
inline __m512 input_16(const InputRows& in, int64_t off, int64_t k0, __mmask16 m) {
  const __m512 a = _mm512_maskz_loadu_ps(m, in.x + off);
  if (!in.to) return a;
  const __m512 b = _mm512_maskz_loadu_ps(m, in.to + off), mix = _mm512_maskz_loadu_ps(m, in.mix + k0);
  return _mm512_fmadd_ps(_mm512_sub_ps(b, a), mix, a);
}

inline void pack_a_row(const InputRows& in, int64_t r, int64_t K, int64_t kb, uint16_t* a) {
  uint16_t* dst = a + (r / 16) * kb * kTileElems + (r % 16) * kTileK;
  for (int64_t t = 0; t < kb; ++t) {
    __m512i v = _mm512_setzero_si512();
    if (r < in.rows) {
      const int64_t k0 = t * kTileK, n = std::min<int64_t>(kTileK, K - k0);
      const __mmask16 lo = n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1);
      const __mmask16 hi = n >= 32 ? __mmask16(0xffff) : n > 16 ? __mmask16((1u << (n - 16)) - 1) : __mmask16(0);
      const int64_t off = r * K + k0;
      v = (__m512i)_mm512_cvtne2ps_pbh(input_16(in, off + 16, k0 + 16, hi), input_16(in, off, k0, lo));
    }
    _mm512_store_si512(dst + t * kTileElems, v);
  }
}

// The tile-register number must be a literal in the instruction.
inline void store_accumulator(int tile, void* dst, int64_t stride) {
  switch (tile) {
    case 0: _tile_stored(0, dst, stride); break;
    case 1: _tile_stored(1, dst, stride); break;
    case 2: _tile_stored(2, dst, stride); break;
    default: _tile_stored(3, dst, stride); break;
  }
}

// Writes a 16x16 accumulator tile to y[m.., n..], clipped to [M, N], through the epilogue.
inline void store_tile(int tile, float* y, int64_t M, int64_t N, int64_t m, int64_t n, const Epilogue& e, float* tmp) {
  if (m >= M || n >= N) return;
  const bool whole = m + 16 <= M && n + 16 <= N;
  if (whole && e.trivial()) {
    store_accumulator(tile, y + m * N + n, N * int64_t(sizeof(float)));
    return;
  }
  store_accumulator(tile, tmp, 64);
  store_block16(tmp, std::min<int64_t>(16, M - m), y + m * N, N, n, std::min<int64_t>(16, N - n), e);
}

// Output rows [m0, m0 + 32) x the 16-column blocks nt and (if Two) nt + 1.
template <bool Two>
inline void block_32(const uint16_t* A, const uint16_t* tiled, int64_t kb, int64_t nt, int64_t m0, float* y, int64_t M,
                     int64_t N, const Epilogue& e, float* tmp) {
  _tile_zero(0);
  _tile_zero(1);
  if constexpr (Two) {
    _tile_zero(2);
    _tile_zero(3);
  }
  const uint16_t* a0 = A + (m0 / 16) * kb * kTileElems;
  const uint16_t* a1 = a0 + kb * kTileElems;
  const uint16_t* b0 = tiled + nt * kb * kTileElems;
  const uint16_t* b1 = b0 + kb * kTileElems;
  for (int64_t t = 0; t < kb; ++t) {
    _tile_loadd(4, a0 + t * kTileElems, 64);
    _tile_loadd(5, a1 + t * kTileElems, 64);
    _tile_loadd(6, b0 + t * kTileElems, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 5, 6);
    if constexpr (Two) {
      _tile_loadd(7, b1 + t * kTileElems, 64);
      _tile_dpbf16ps(2, 4, 7);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  const int64_t n = nt * kTileN;
  store_tile(0, y, M, N, m0, n, e, tmp);
  store_tile(1, y, M, N, m0 + 16, n, e, tmp);
  if constexpr (Two) {
    store_tile(2, y, M, N, m0, n + 16, e, tmp);
    store_tile(3, y, M, N, m0 + 16, n + 16, e, tmp);
  }
}
}  // namespace

void gemm_tiles_amx(const InputRows& in, const uint16_t* tiled, int64_t N, int64_t K, float* y, const Epilogue& e) {
  const int64_t M = in.rows, kb = tile_blocks_k(K), Kp = kb * kTileK, nb = tile_blocks_n(N);
  const int64_t Mp = (M + kBlockM - 1) / kBlockM * kBlockM;
  thread_local std::vector<uint16_t> A;
  A.resize(size_t(Mp * Kp) + 32);
  uint16_t* a = A.data() + ((64 - reinterpret_cast<uintptr_t>(A.data()) % 64) % 64) / sizeof(uint16_t);
  // Rows of x (and the A strip re-read for each weight block) stay in L2 when a pass covers at
  // most ~1 MB of A; longer inputs take several passes over the weights.
  const int64_t pass_rows = std::clamp<int64_t>((int64_t(1) << 20) / (Kp * 2) / kBlockM * kBlockM, kBlockM, Mp);
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t r = 0; r < Mp; ++r) pack_a_row(in, r, K, kb, a);
    configure_tiles();
    alignas(64) float tmp[16 * 16];
    // Work units: a pair of 16-column blocks over the rows of a pass (or, for narrow products such
    // as LoRA projections, over 64-row slices of it), handed out dynamically: the two cores of a
    // shared host rarely run at the same speed, and a static split waits for the slower one.
    const int64_t pairs = (nb + 1) / 2;
    const int64_t slice = pairs >= 8 ? pass_rows : 2 * kBlockM;
    for (int64_t m_pass = 0; m_pass < Mp; m_pass += pass_rows) {
      const int64_t m_end = std::min(Mp, m_pass + pass_rows);
      const int64_t slices = (m_end - m_pass + slice - 1) / slice;
#pragma omp for schedule(dynamic, 1) nowait
      for (int64_t u = 0; u < pairs * slices; ++u) {
        const int64_t nt = 2 * (u / slices), m_begin = m_pass + (u % slices) * slice;
        for (int64_t m0 = m_begin; m0 < std::min(m_end, m_begin + slice); m0 += kBlockM) {
          if (nt + 1 < nb) block_32<true>(a, tiled, kb, nt, m0, y, M, N, e, tmp);
          else block_32<false>(a, tiled, kb, nt, m0, y, M, N, e, tmp);
        }
      }
    }
    _tile_release();
  }
}

}  // namespace gander::ops::detail
