// AVX-512 layer / group normalisation of one slice (the prefill's per-token norms).
#include <immintrin.h>

#include <cmath>

#include "ops/norm.h"

namespace gander::ops::detail {

void normalize_avx512(const float* x, const float* w, const float* b, float eps, int64_t n, float* y) {
  auto mask = [n](int64_t i) { return n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1); };
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask(i), x + i));
  const float mean = _mm512_reduce_add_ps(sum) / float(n);
  const __m512 vmean = _mm512_set1_ps(mean);
  __m512 var = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask(i);
    const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), vmean);
    var = _mm512_fmadd_ps(d, d, var);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / std::sqrt(_mm512_reduce_add_ps(var) / float(n) + eps));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask(i);
    const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmean), inv);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, w + i), _mm512_maskz_loadu_ps(m, b + i)));
  }
}

}  // namespace gander::ops::detail
