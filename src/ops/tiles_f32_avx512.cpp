// Matrix products over tiled f32 weights (see tiles.h) with AVX-512 FMAs, f32 arithmetic.
//
// Decoding: a line of a 16-row block holds one column of all 16 rows, so one broadcast x value
// times one 64-byte line is 16 outputs' worth of products; several blocks are read side by side,
// each its own sequential stream with software prefetch (as for the bf16 tiles).
//
// Prefill: a register-blocked kernel over the same blocks. 8 input rows x 48 outputs (three
// blocks) live in 24 accumulators; per column step it loads three weight lines and broadcasts
// each of the 8 input values against them (24 FMAs for 11 loads). K is cut into steps of 256 so
// that the 8-row input strip stays in L1 and the weight lines of a work unit in L2; partial sums
// between steps wait in a per-thread scratch. The token-shift mix of the input, where the job has
// one, is formed per strip; the epilogue is applied to each 8 x 16 output block in L1.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/epilogue_avx512.h"
#include "ops/linear.h"
#include "ops/tiles.h"

namespace gander::ops::detail {

namespace {
constexpr int kPrefetchBytes = 4096;

// NB 16-row blocks side by side against R input rows.
template <int R, int NB>
inline void gemv_blocks(const float* x, int64_t K, const float* blk, float* y, int64_t N, int64_t valid) {
  __m512 acc[NB][R];
#pragma GCC unroll 8
  for (int b = 0; b < NB; ++b)
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[b][r] = _mm512_setzero_ps();
  const int64_t stride = kTileN * K;
  for (int64_t k = 0; k < K; ++k) {
    __m512 xv[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) xv[r] = _mm512_set1_ps(x[r * K + k]);
#pragma GCC unroll 8
    for (int b = 0; b < NB; ++b) {
      const float* line = blk + b * stride + k * kTileN;
      _mm_prefetch(reinterpret_cast<const char*>(line) + kPrefetchBytes, _MM_HINT_T0);
      const __m512 w = _mm512_loadu_ps(line);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[b][r] = _mm512_fmadd_ps(w, xv[r], acc[b][r]);
    }
  }
  for (int b = 0; b < NB; ++b) {
    const int64_t v = valid - b * kTileN;
    const __mmask16 m = v >= kTileN ? __mmask16(0xffff) : __mmask16((1u << v) - 1);
    for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + b * kTileN + r * N, m, acc[b][r]);
  }
}

template <int R>
void gemv_rows(const float* x, const float* tiled, int64_t K, int64_t n_begin, int64_t n_end, float* y, int64_t N) {
  constexpr int NB = R <= 2 ? 8 : 4;  // NB x R accumulators must fit the 32 registers
  int64_t n0 = n_begin;
  for (; n0 + NB * kTileN <= n_end; n0 += NB * kTileN)
    gemv_blocks<R, NB>(x, K, tiled + n0 * K, y + n0, N, n_end - n0);
  for (; n0 < n_end; n0 += kTileN) gemv_blocks<R, 1>(x, K, tiled + n0 * K, y + n0, N, n_end - n0);
}

constexpr int kRows = 8;                 // input rows per micro-kernel
constexpr int kBlocks = 3;               // 16-column weight blocks per micro-kernel
constexpr int64_t kStepK = 256;          // columns of K per step
constexpr int64_t kUnitBlocks = 4 * kBlocks;  // weight blocks per work unit (192 outputs)

// c[i * crs + p * cbs + 0..15] = (c_in ? c_in[i * ldi + p * 16 + 0..15] : 0)
//                                + sum_k a[i * lda + k] * b[p * bs + k * 16 + 0..15]   for i < kRows, p < NP, k < kc.
template <int NP>
inline void micro(const float* a, int64_t lda, const float* b, int64_t bs, int64_t kc, const float* c_in, int64_t ldi,
                  float* c, int64_t crs, int64_t cbs) {
  __m512 acc[kRows][NP];
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 3
    for (int p = 0; p < NP; ++p) acc[i][p] = c_in ? _mm512_loadu_ps(c_in + i * ldi + p * kTileN) : _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 w[NP];
#pragma GCC unroll 3
    for (int p = 0; p < NP; ++p) w[p] = _mm512_loadu_ps(b + p * bs + k * kTileN);
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) {
      const __m512 x = _mm512_set1_ps(a[i * lda + k]);
#pragma GCC unroll 3
      for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_fmadd_ps(x, w[p], acc[i][p]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 3
    for (int p = 0; p < NP; ++p) _mm512_storeu_ps(c + i * crs + p * cbs, acc[i][p]);
}

// Rows [r0, r0 + kRows) x columns [k0, k0 + kc) of the job's input: read in place when they are
// plain whole rows, else formed in buf (the token-shift mix, zero rows past M). Returns the row stride.
inline const float* input_strip(const InputRows& in, int64_t K, int64_t r0, int64_t k0, int64_t kc, float* buf,
                                int64_t& lda) {
  if (!in.to && r0 + kRows <= in.rows) {
    lda = K;
    return in.x + r0 * K + k0;
  }
  lda = kStepK;
  for (int64_t i = 0; i < kRows; ++i) {
    float* dst = buf + i * kStepK;
    if (r0 + i >= in.rows) {
      std::fill(dst, dst + kc, 0.0f);
      continue;
    }
    const float* a = in.x + (r0 + i) * K + k0;
    if (!in.to) {
      std::copy(a, a + kc, dst);
      continue;
    }
    const float* b = in.to + (r0 + i) * K + k0;
    const float* mix = in.mix + k0;
    for (int64_t k = 0; k < kc; k += 16) {
      const __mmask16 m = kc - k >= 16 ? __mmask16(0xffff) : __mmask16((1u << (kc - k)) - 1);
      const __m512 va = _mm512_maskz_loadu_ps(m, a + k), vb = _mm512_maskz_loadu_ps(m, b + k);
      const __m512 v = _mm512_add_ps(va, _mm512_mul_ps(_mm512_sub_ps(vb, va), _mm512_maskz_loadu_ps(m, mix + k)));
      _mm512_mask_storeu_ps(dst + k, m, v);
    }
  }
  return buf;
}

// Weight blocks [p, p + NP) against one input strip over one K step: into the unit's partial sums
// (kRows rows of its row-major [rows x 192] scratch), or on the last step into tmp.
template <int NP>
inline void micro_step(const float* a, int64_t lda, const float* tiled, int64_t K, int64_t p, int64_t k0, int64_t kc,
                       bool first, bool last, float* part, int64_t ldp, float* tmp) {
  const float* b = tiled + p * kTileN * K + k0 * kTileN;
  const float* c_in = first ? nullptr : part;
  // The last step writes NP blocks of kRows x 16 each, the form store_block16 reads.
  if (last) micro<NP>(a, lda, b, kTileN * K, kc, c_in, ldp, tmp, kTileN, kRows * kTileN);
  else micro<NP>(a, lda, b, kTileN * K, kc, c_in, ldp, part, ldp, kTileN);
}
}  // namespace

void gemv_tiles_f32_avx512(const float* x, int64_t rows, const float* tiled, int64_t K, int64_t n_begin,
                           int64_t n_end, float* y, int64_t N) {
  switch (rows) {
    case 1: gemv_rows<1>(x, tiled, K, n_begin, n_end, y, N); break;
    case 2: gemv_rows<2>(x, tiled, K, n_begin, n_end, y, N); break;
    case 3: gemv_rows<3>(x, tiled, K, n_begin, n_end, y, N); break;
    default: gemv_rows<4>(x, tiled, K, n_begin, n_end, y, N); break;
  }
}

void gemm_tiles_f32_avx512(const InputRows& in, const float* tiled, int64_t N, int64_t K, float* y,
                           const Epilogue& e) {
  const int64_t M = in.rows, groups = (M + kRows - 1) / kRows, nb = tile_blocks_n(N);
  if (M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum: the epilogue of zeros
    alignas(64) float zeros[kRows * kTileN];
    for (int64_t r0 = 0; r0 < M; r0 += kRows)
      for (int64_t n = 0; n < N; n += kTileN) {
        std::fill(std::begin(zeros), std::end(zeros), 0.0f);
        store_block16(zeros, std::min<int64_t>(kRows, M - r0), y + r0 * N, N, n, std::min(kTileN, N - n), e);
      }
    return;
  }
  // Work units: up to kUnitBlocks weight blocks over a slice of the rows, handed out dynamically
  // (the two cores of a shared host rarely keep the same pace). Narrow products (LoRA
  // projections) cut the rows into more slices so that every thread has work.
  const int64_t n_units = (nb + kUnitBlocks - 1) / kUnitBlocks;
  const int64_t want = 4 * int64_t(omp_get_max_threads());
  const int64_t slices = std::clamp<int64_t>((want + n_units - 1) / n_units, 1, groups);
  const int64_t slice_groups = (groups + slices - 1) / slices;
  const int64_t ldp = kUnitBlocks * kTileN;
#pragma omp parallel
  {
    thread_local std::vector<float> partial;  // this thread's partial sums between K steps
    if (K > kStepK) partial.resize(size_t(slice_groups * kRows * ldp));
    alignas(64) float strip[kRows * kStepK];
    alignas(64) float tmp[kBlocks * kRows * kTileN];
#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < n_units * slices; ++u) {
      const int64_t p0 = (u % n_units) * kUnitBlocks, p1 = std::min(nb, p0 + kUnitBlocks);
      const int64_t g0 = (u / n_units) * slice_groups, g1 = std::min(groups, g0 + slice_groups);
      for (int64_t k0 = 0; k0 < K; k0 += kStepK) {
        const int64_t kc = std::min(kStepK, K - k0);
        const bool first = k0 == 0, last = k0 + kc == K;
        for (int64_t g = g0; g < g1; ++g) {
          int64_t lda = 0;
          const float* a = input_strip(in, K, g * kRows, k0, kc, strip, lda);
          for (int64_t p = p0; p < p1; p += kBlocks) {
            const int64_t np = std::min<int64_t>(kBlocks, p1 - p);
            float* part = last && first ? nullptr : partial.data() + (g - g0) * kRows * ldp + (p - p0) * kTileN;
            switch (np) {
              case 3: micro_step<3>(a, lda, tiled, K, p, k0, kc, first, last, part, ldp, tmp); break;
              case 2: micro_step<2>(a, lda, tiled, K, p, k0, kc, first, last, part, ldp, tmp); break;
              default: micro_step<1>(a, lda, tiled, K, p, k0, kc, first, last, part, ldp, tmp); break;
            }
            if (!last) continue;
            const int64_t rows = std::min<int64_t>(kRows, M - g * kRows);
            for (int64_t q = 0; q < np; ++q) {
              const int64_t n = (p + q) * kTileN;
              store_block16(tmp + q * kRows * kTileN, rows, y + g * kRows * N, N, n, std::min(kTileN, N - n), e);
            }
          }
        }
      }
    }
  }
}

}  // namespace gander::ops::detail
