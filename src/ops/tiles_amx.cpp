// Matrix products over tiled bf16 weights on the AMX units. x is rounded to bf16 once per call
// into a zero-padded [Mp, Kp] copy; each thread owns a range of 16-column weight blocks and
// computes 32 x 32 output blocks with the usual 2 x 2 tile blocking (4 accumulator tiles, 2 A
// tiles, 2 B tiles). The weight tiles are already in the B-operand order, so they are loaded as
// they lie in memory.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

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

// The tile-register number must be a literal in the instruction.
inline void store_accumulator(int tile, void* dst, int64_t stride) {
  switch (tile) {
    case 0: _tile_stored(0, dst, stride); break;
    case 1: _tile_stored(1, dst, stride); break;
    case 2: _tile_stored(2, dst, stride); break;
    default: _tile_stored(3, dst, stride); break;
  }
}

// Writes a 16x16 accumulator tile to y[m.., n..], clipped to [M, N].
inline void store_tile(int tile, float* y, int64_t M, int64_t N, int64_t m, int64_t n, float* tmp) {
  if (m >= M || n >= N) return;
  if (m + 16 <= M && n + 16 <= N) {
    store_accumulator(tile, y + m * N + n, N * int64_t(sizeof(float)));
    return;
  }
  store_accumulator(tile, tmp, 64);
  const int64_t rows = std::min<int64_t>(16, M - m), cols = std::min<int64_t>(16, N - n);
  for (int64_t i = 0; i < rows; ++i) std::memcpy(y + (m + i) * N + n, tmp + i * 16, size_t(cols) * sizeof(float));
}

// Output rows [m0, m0 + 32) x the 16-column blocks nt and (if Two) nt + 1.
template <bool Two>
inline void block_32(const uint16_t* A, int64_t Kp, const uint16_t* tiled, int64_t kb, int64_t nt, int64_t m0,
                     float* y, int64_t M, int64_t N, float* tmp) {
  _tile_zero(0);
  _tile_zero(1);
  if constexpr (Two) {
    _tile_zero(2);
    _tile_zero(3);
  }
  const uint16_t* a0 = A + m0 * Kp;
  const uint16_t* a1 = a0 + 16 * Kp;
  const uint16_t* b0 = tiled + nt * kb * kTileElems;
  const uint16_t* b1 = b0 + kb * kTileElems;
  const int64_t stride = Kp * int64_t(sizeof(uint16_t));
  for (int64_t t = 0; t < kb; ++t) {
    _tile_loadd(4, a0 + t * kTileK, stride);
    _tile_loadd(5, a1 + t * kTileK, stride);
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
  store_tile(0, y, M, N, m0, n, tmp);
  store_tile(1, y, M, N, m0 + 16, n, tmp);
  if constexpr (Two) {
    store_tile(2, y, M, N, m0, n + 16, tmp);
    store_tile(3, y, M, N, m0 + 16, n + 16, tmp);
  }
}
}  // namespace

void gemm_tiles_amx(const float* x, int64_t M, const uint16_t* tiled, int64_t N, int64_t K, float* y) {
  const int64_t kb = tile_blocks_k(K), Kp = kb * kTileK, nb = tile_blocks_n(N);
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
    for (int64_t r = 0; r < Mp; ++r) {
      uint16_t* dst = a + r * Kp;
      if (r < M) {
        f32_to_bf16_avx512(x + r * K, dst, K);
        std::fill(dst + K, dst + Kp, uint16_t(0));
      } else {
        std::fill(dst, dst + Kp, uint16_t(0));
      }
    }
    configure_tiles();
    alignas(64) float tmp[16 * 16];
    // Pairs of 16-column blocks, split evenly across threads.
    const int64_t pairs = (nb + 1) / 2, nt_count = omp_get_num_threads(), id = omp_get_thread_num();
    const int64_t p_begin = pairs * id / nt_count, p_end = pairs * (id + 1) / nt_count;
    for (int64_t m_pass = 0; m_pass < Mp; m_pass += pass_rows) {
      const int64_t m_end = std::min(Mp, m_pass + pass_rows);
      for (int64_t p = p_begin; p < p_end; ++p) {
        const int64_t nt = 2 * p;
        for (int64_t m0 = m_pass; m0 < m_end && m0 < M; m0 += kBlockM) {
          if (nt + 1 < nb) block_32<true>(a, Kp, tiled, kb, nt, m0, y, M, N, tmp);
          else block_32<false>(a, Kp, tiled, kb, nt, m0, y, M, N, tmp);
        }
      }
    }
    _tile_release();
  }
}

}  // namespace gander::ops::detail
