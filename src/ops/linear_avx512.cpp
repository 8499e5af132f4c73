// AVX-512 matrix-vector kernel for decoding. Weights are streamed from memory exactly once per
// call; bf16/f16 are widened to f32 in registers (exact), so the arithmetic is f32 and the result
// matches the f32 path. Compiled with -mavx512*, called only after cpu_has_avx512().
#include <immintrin.h>

#include <vector>

#include "ops/linear.h"

namespace gander::ops::detail {

namespace {
// Software prefetch distance along each weight row. With several rows streamed side by side
// the hardware prefetchers fall behind on short rows (K = 768 in bf16 is 1.5 KB).
constexpr int kPrefetchBytes = 1024;

template <DType WT>
inline __m512 load_w(const void* W, int64_t idx, __mmask16 m) {
  if constexpr (WT == DType::F32) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(W) + idx);
  } else {
    __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(W) + idx);
    if constexpr (WT == DType::BF16) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
      return _mm512_cvtph_ps(h);
    }
  }
}

template <DType WT>
constexpr int64_t kElemBytes = WT == DType::F32 ? 4 : 2;

// NR weight rows against R input rows: NR*R accumulators, each weight vector loaded once.
template <DType WT, int NR, int R>
inline void block(const float* x, const void* W, int64_t K, int64_t n, float* y, int64_t N) {
  __m512 acc[NR][R];
  for (int i = 0; i < NR; ++i)
    for (int r = 0; r < R; ++r) acc[i][r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k += 16) {
    const __mmask16 m = K - k >= 16 ? __mmask16(0xffff) : __mmask16((1u << (K - k)) - 1);
    __m512 xv[R];
    for (int r = 0; r < R; ++r) xv[r] = _mm512_maskz_loadu_ps(m, x + r * K + k);
    for (int i = 0; i < NR; ++i) {
      _mm_prefetch(static_cast<const char*>(W) + ((n + i) * K + k) * kElemBytes<WT> + kPrefetchBytes, _MM_HINT_T0);
      const __m512 w = load_w<WT>(W, (n + i) * K + k, m);
      for (int r = 0; r < R; ++r) acc[i][r] = _mm512_fmadd_ps(w, xv[r], acc[i][r]);
    }
  }
  for (int i = 0; i < NR; ++i)
    for (int r = 0; r < R; ++r) y[r * N + n + i] = _mm512_reduce_add_ps(acc[i][r]);
}

template <DType WT, int R>
void rows_kernel(const float* x, const void* W, int64_t K, int64_t n_begin, int64_t n_end, float* y, int64_t N) {
  constexpr int NR = R <= 2 ? 8 : 4;  // more rows in flight keep more DRAM requests outstanding
  int64_t n = n_begin;
  for (; n + NR <= n_end; n += NR) block<WT, NR, R>(x, W, K, n, y, N);
  for (; n < n_end; ++n) block<WT, 1, R>(x, W, K, n, y, N);
}

template <DType WT>
void dispatch_rows(const float* x, int64_t rows, const void* W, int64_t K, int64_t n_begin, int64_t n_end, float* y,
                   int64_t N) {
  switch (rows) {
    case 1: rows_kernel<WT, 1>(x, W, K, n_begin, n_end, y, N); break;
    case 2: rows_kernel<WT, 2>(x, W, K, n_begin, n_end, y, N); break;
    case 3: rows_kernel<WT, 3>(x, W, K, n_begin, n_end, y, N); break;
    default: rows_kernel<WT, 4>(x, W, K, n_begin, n_end, y, N); break;
  }
}

// bf16 weights, two f32 vectors per 64-byte load: a bf16 value is the high half of an f32, so
// (w << 16) widens the even-indexed elements of a 32-element load and (w & 0xffff0000) the odd
// ones, one instruction each, instead of a zero-extend plus a shift per 16 elements. x is split
// once per call into its even and odd elements (row layout [even Kp | odd Kp], zero padded).
template <int NR, int R>
inline void block_bf16(const float* xs, int64_t Kp, const uint16_t* W, int64_t K, int64_t n, float* y, int64_t N) {
  __m512 acc[NR][R];
  for (int i = 0; i < NR; ++i)
    for (int r = 0; r < R; ++r) acc[i][r] = _mm512_setzero_ps();
  const __m512i hi_mask = _mm512_set1_epi32(int(0xffff0000u));
  for (int64_t k = 0, kh = 0; k < K; k += 32, kh += 16) {
    const __mmask32 m = K - k >= 32 ? __mmask32(0xffffffffu) : __mmask32((uint64_t(1) << (K - k)) - 1);
    __m512 xe[R], xo[R];
    for (int r = 0; r < R; ++r) {
      xe[r] = _mm512_loadu_ps(xs + r * 2 * Kp + kh);
      xo[r] = _mm512_loadu_ps(xs + r * 2 * Kp + Kp + kh);
    }
    for (int i = 0; i < NR; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(W + (n + i) * K + k) + kPrefetchBytes, _MM_HINT_T0);
      const __m512i w = _mm512_maskz_loadu_epi16(m, W + (n + i) * K + k);
      const __m512 we = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
      const __m512 wo = _mm512_castsi512_ps(_mm512_and_si512(w, hi_mask));
      for (int r = 0; r < R; ++r) {
        acc[i][r] = _mm512_fmadd_ps(we, xe[r], acc[i][r]);
        acc[i][r] = _mm512_fmadd_ps(wo, xo[r], acc[i][r]);
      }
    }
  }
  for (int i = 0; i < NR; ++i)
    for (int r = 0; r < R; ++r) y[r * N + n + i] = _mm512_reduce_add_ps(acc[i][r]);
}

template <int R>
void rows_bf16(const float* xs, int64_t Kp, const uint16_t* W, int64_t K, int64_t n_begin, int64_t n_end, float* y,
               int64_t N) {
  constexpr int NR = R <= 2 ? 8 : 4;  // more rows in flight keep more DRAM requests outstanding
  int64_t n = n_begin;
  for (; n + NR <= n_end; n += NR) block_bf16<NR, R>(xs, Kp, W, K, n, y, N);
  for (; n < n_end; ++n) block_bf16<1, R>(xs, Kp, W, K, n, y, N);
}

void gemv_bf16(const float* x, int64_t rows, const uint16_t* W, int64_t K, int64_t n_begin, int64_t n_end, float* y,
               int64_t N) {
  const int64_t Kp = ((K + 1) / 2 + 15) / 16 * 16;
  thread_local std::vector<float> split;
  split.assign(size_t(rows * 2 * Kp), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < K; ++k) split[size_t(r * 2 * Kp + (k & 1) * Kp + k / 2)] = x[r * K + k];
  switch (rows) {
    case 1: rows_bf16<1>(split.data(), Kp, W, K, n_begin, n_end, y, N); break;
    case 2: rows_bf16<2>(split.data(), Kp, W, K, n_begin, n_end, y, N); break;
    case 3: rows_bf16<3>(split.data(), Kp, W, K, n_begin, n_end, y, N); break;
    default: rows_bf16<4>(split.data(), Kp, W, K, n_begin, n_end, y, N); break;
  }
}
}  // namespace

void gemv_avx512(const float* x, int64_t rows, const void* W, DType wt, int64_t K, int64_t n_begin, int64_t n_end,
                 float* y, int64_t N) {
  switch (wt) {
    case DType::F32: dispatch_rows<DType::F32>(x, rows, W, K, n_begin, n_end, y, N); break;
    case DType::BF16: gemv_bf16(x, rows, static_cast<const uint16_t*>(W), K, n_begin, n_end, y, N); break;
    default: dispatch_rows<DType::F16>(x, rows, W, K, n_begin, n_end, y, N); break;
  }
}

}  // namespace gander::ops::detail

namespace gander::ops::detail {
void f32_to_bf16_avx512(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    const __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
    _mm256_mask_storeu_epi16(y + i, m, v);
  }
}
}  // namespace gander::ops::detail
