// The WKV7 head kernel compiled for AVX-512 (see wkv7_head64.inc).
#include <cmath>

#include "ops/vmath_avx512.h"
#include "ops/wkv7.h"

namespace gander::ops::detail {
namespace avx512_build {
#include "ops/wkv7_head64.inc"
}
void wkv7_head64_avx512(const float* r, const float* w, const float* k, const float* v, const float* a,
                        const float* b, int64_t T, int64_t stride, float* S, float* y) {
  avx512_build::head64(r, w, k, v, a, b, T, stride, S, y);
}
}  // namespace gander::ops::detail

namespace gander::ops::detail {
void wkv7_prepare_row_avx512(float* k, float* d, const float* a, const float* k_k, const float* k_a, float* a_in,
                             float* b_in, int64_t C, int64_t N) {
  const __m512 one = _mm512_set1_ps(1.0f), neg_scale = _mm512_set1_ps(-std::exp(-0.5f));
  for (int64_t h = 0; h < C; h += N) {
    // kappa = k * k_k and its squared norm over the head.
    __m512 ss = _mm512_setzero_ps();
    for (int64_t i = h; i < h + N; i += 16) {
      const __m512 kap = _mm512_mul_ps(_mm512_loadu_ps(k + i), _mm512_loadu_ps(k_k + i));
      _mm512_storeu_ps(a_in + i, kap);
      ss = _mm512_fmadd_ps(kap, kap, ss);
    }
    const float inv = 1.0f / std::fmax(std::sqrt(_mm512_reduce_add_ps(ss)), 1e-12f);
    const __m512 vinv = _mm512_set1_ps(inv), neg_inv = _mm512_set1_ps(-inv);
    for (int64_t i = h; i < h + N; i += 16) {
      const __m512 kap = _mm512_loadu_ps(a_in + i), av = _mm512_loadu_ps(a + i);
      _mm512_storeu_ps(b_in + i, _mm512_mul_ps(_mm512_mul_ps(kap, vinv), av));
      _mm512_storeu_ps(a_in + i, _mm512_mul_ps(kap, neg_inv));
      const __m512 kv = _mm512_loadu_ps(k + i);
      _mm512_storeu_ps(k + i, _mm512_mul_ps(kv, _mm512_fmadd_ps(_mm512_sub_ps(av, one), _mm512_loadu_ps(k_a + i), one)));
      _mm512_storeu_ps(d + i, vmath::exp(_mm512_mul_ps(neg_scale, vmath::sigmoid(_mm512_loadu_ps(d + i)))));
    }
  }
}
}  // namespace gander::ops::detail
