// 16-wide f32 transcendental functions from glibc's libmvec (AVX-512 variants, <= 4 ulp), for
// the *_avx512.cpp kernels. Declared here because glibc only exposes them to auto-vectorised
// code under -ffast-math, which we do not use.
#pragma once
#include <immintrin.h>

extern "C" {
__m512 _ZGVeN16v_expf(__m512 x);
__m512 _ZGVeN16v_tanhf(__m512 x);
__m512 _ZGVeN16v_log1pf(__m512 x);
}

namespace gander::ops::vmath {
inline __m512 exp(__m512 x) { return _ZGVeN16v_expf(x); }
inline __m512 tanh(__m512 x) { return _ZGVeN16v_tanhf(x); }
inline __m512 log1p(__m512 x) { return _ZGVeN16v_log1pf(x); }
inline __m512 sigmoid(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}
}  // namespace gander::ops::vmath
