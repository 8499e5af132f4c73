// Matrix-vector products over tiled bf16 weights (see tiles.h). Each 64-byte line of a tile holds
// the pairs (W[n][k], W[n][k+1]) of 16 rows: (line << 16) widens the even columns exactly and
// (line & 0xffff0000) the odd ones, and two broadcast x values finish 32 products in 16 lanes,
// so a 16-row block is one sequential stream with no horizontal sums.
#include <immintrin.h>

#include <vector>

#include "ops/tiles.h"

namespace gander::ops::detail {

namespace {
// Several 16-row blocks are read side by side, each its own sequential stream: one stream per
// thread leaves too few memory requests in flight (the hardware prefetcher stops at every 4 KB
// page), eight reach the bandwidth limit. Software prefetch runs this far ahead in every stream.
constexpr int kPrefetchBytes = 4096;


// NB 16-row blocks side by side (NB concurrent memory streams) against R input rows (xp: R rows
// of Kp floats, zero padded).
template <int R, int NB>
inline void blocks_nb(const float* xp, int64_t Kp, const uint16_t* blk, int64_t kb, float* y, int64_t N,
                      int64_t valid) {
  __m512 acc[NB][R];
  for (int b = 0; b < NB; ++b)
    for (int r = 0; r < R; ++r) acc[b][r] = _mm512_setzero_ps();
  const __m512i hi = _mm512_set1_epi32(int(0xffff0000u));
  const int64_t block_elems = kb * kTileElems;
  for (int64_t t = 0; t < kb; ++t) {
    const float* xt = xp + t * kTileK;
    for (int j = 0; j < kTileK / 2; ++j) {
      __m512 x0[R], x1[R];
      for (int r = 0; r < R; ++r) {
        x0[r] = _mm512_set1_ps(xt[r * Kp + 2 * j]);
        x1[r] = _mm512_set1_ps(xt[r * Kp + 2 * j + 1]);
      }
      for (int b = 0; b < NB; ++b) {
        const char* line = reinterpret_cast<const char*>(blk + b * block_elems + t * kTileElems + j * 2 * kTileN);
        _mm_prefetch(line + kPrefetchBytes, _MM_HINT_T0);
        const __m512i w = _mm512_loadu_si512(line);
        const __m512 e = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
        const __m512 o = _mm512_castsi512_ps(_mm512_and_si512(w, hi));
        for (int r = 0; r < R; ++r) acc[b][r] = _mm512_fmadd_ps(o, x1[r], _mm512_fmadd_ps(e, x0[r], acc[b][r]));
      }
    }
  }
  for (int b = 0; b < NB; ++b) {
    const int64_t v = valid - b * kTileN;
    const __mmask16 m = v >= kTileN ? __mmask16(0xffff) : __mmask16((1u << v) - 1);
    for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + b * kTileN + r * N, m, acc[b][r]);
  }
}

template <int R>
void blocks(const float* xp, int64_t Kp, const uint16_t* tiled, int64_t kb, int64_t n_begin, int64_t n_end, float* y,
            int64_t N) {
  constexpr int NB = R <= 2 ? 8 : 4;  // NB x R accumulators must fit the 32 registers
  const int64_t block_elems = kb * kTileElems;
  int64_t n0 = n_begin;
  for (; n0 + NB * kTileN <= n_end; n0 += NB * kTileN)
    blocks_nb<R, NB>(xp, Kp, tiled + (n0 / kTileN) * block_elems, kb, y + n0, N, n_end - n0);
  for (; n0 < n_end; n0 += kTileN)
    blocks_nb<R, 1>(xp, Kp, tiled + (n0 / kTileN) * block_elems, kb, y + n0, N, n_end - n0);
}
}  // namespace

void gemv_tiles_avx512(const float* x, int64_t rows, const uint16_t* tiled, int64_t K, int64_t n_begin,
                       int64_t n_end, float* y, int64_t N) {
  const int64_t kb = tile_blocks_k(K), Kp = kb * kTileK;
  // When K is not a multiple of the tile width, x is copied zero padded to whole tiles: the
  // padding columns of W are zero, but x * 0 must not meet whatever lies past the end of x.
  const float* xs = x;
  if (Kp != K) {
    thread_local std::vector<float> xp;
    xp.assign(size_t(rows * Kp), 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < K; ++k) xp[size_t(r * Kp + k)] = x[r * K + k];
    xs = xp.data();
  }
  switch (rows) {
    case 1: blocks<1>(xs, Kp, tiled, kb, n_begin, n_end, y, N); break;
    case 2: blocks<2>(xs, Kp, tiled, kb, n_begin, n_end, y, N); break;
    case 3: blocks<3>(xs, Kp, tiled, kb, n_begin, n_end, y, N); break;
    default: blocks<4>(xs, Kp, tiled, kb, n_begin, n_end, y, N); break;
  }
}

}  // namespace gander::ops::detail
