// The epilogue of a LinearJob (bias, activation, accumulation) applied to one 16-column block of
// products while it is still in L1, for the kernels that compute products block by block.
// Include only from *_avx512.cpp / *_amx.cpp files (AVX-512 code).
#pragma once
#include <immintrin.h>

#include "ops/elementwise.h"
#include "ops/linear.h"

namespace gander::ops::detail {

// tmp: `rows` rows of 16 raw products (stride 16, 64-byte aligned; overwritten). Writes
// y[i * ldy + n + c] for i < rows, c < cols <= 16.
inline void store_block16(float* tmp, int64_t rows, float* y, int64_t ldy, int64_t n, int64_t cols,
                          const Epilogue& e) {
  const __mmask16 cm = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1);
  const __m512 bias = e.bias ? _mm512_maskz_loadu_ps(cm, e.bias + n) : _mm512_setzero_ps();
  if (e.act) {
    for (int64_t i = 0; i < rows; ++i) _mm512_store_ps(tmp + i * 16, _mm512_add_ps(_mm512_load_ps(tmp + i * 16), bias));
    activation_avx512(*e.act, tmp, tmp, rows * 16);
  }
  for (int64_t i = 0; i < rows; ++i) {
    float* dst = y + i * ldy + n;
    __m512 v = _mm512_load_ps(tmp + i * 16);
    if (!e.act) v = _mm512_add_ps(v, bias);
    if (e.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(cm, dst));
    _mm512_mask_storeu_ps(dst, cm, v);
  }
}

}  // namespace gander::ops::detail
