// AVX-512 activations over a contiguous range, using libmvec for the transcendental parts.
#include "ops/elementwise.h"
#include "ops/vmath_avx512.h"

namespace gander::ops::detail {

namespace {
inline __m512 apply(Act a, __m512 x) {
  switch (a) {
    case Act::Tanh: return vmath::tanh(x);
    case Act::Sigmoid: return vmath::sigmoid(x);
    case Act::Exp: return vmath::exp(x);
    case Act::Softplus: {
      const __m512 ax = _mm512_abs_ps(x);
      return _mm512_add_ps(_mm512_max_ps(x, _mm512_setzero_ps()),
                           vmath::log1p(vmath::exp(_mm512_sub_ps(_mm512_setzero_ps(), ax))));
    }
    case Act::ReluSquared: {
      const __m512 r = _mm512_max_ps(x, _mm512_setzero_ps());
      return _mm512_mul_ps(r, r);
    }
    case Act::Silu: return _mm512_mul_ps(x, vmath::sigmoid(x));
  }
  return x;
}
}  // namespace

void activation_avx512(Act a, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, apply(a, _mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, apply(a, _mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace gander::ops::detail
