// The WKV7 head kernels compiled for AVX-512 (see wkv7_head.inc).
#include <cmath>

#include "ops/norm.h"
#include "ops/vmath_avx512.h"
#include "ops/wkv7.h"

namespace gander::ops::detail {
namespace avx512_build {
#include "ops/wkv7_head.inc"
}
namespace {
// Many tokens (prefill), value channels [i0, i0 + 16 kC) of a head of N keys (N even; kKeys when
// known at compile time): the shared kernel's loops written out so that no sum is one long
// dependency chain. sa = a . S and y = S . r each take two accumulator sets (even and odd key
// rows), which halves the FMA latency they would otherwise wait on; v, sa and the two y sets stay
// in registers while the key rows of the (transposed, L1-resident) state block stream by.
template <int kC, int64_t kKeys = 0>
void block_tokens(const float* r, const float* w, const float* k, const float* v, const float* a, const float* b,
                  int64_t T, int64_t stride, int64_t n_keys, int64_t i0, float* S, float* y) {
  const int64_t N = kKeys ? kKeys : n_keys;
  constexpr int kAhead = 8;
  constexpr int64_t kV = 16 * kC, kRow = avx512_build::kBlock;
  Tensor local = Tensor::empty(DType::F32, {N, kRow});  // St[j][i - i0]
  float* St = local.data<float>();
  for (int64_t i = 0; i < kV; ++i)
    for (int64_t j = 0; j < N; ++j) St[j * kRow + i] = S[(i0 + i) * N + j];
  for (int64_t t = 0; t < T; ++t) {
    const float *rt = r + t * stride, *wt = w + t * stride, *kt = k + t * stride;
    const float *vt = v + t * stride + i0, *at = a + t * stride, *bt = b + t * stride;
    // A head's inputs for consecutive tokens lie a model width apart (4-8 KB): a stride the
    // hardware prefetchers do not follow across pages, so fetch a few tokens ahead by hand.
    if (t + kAhead < T) {
      for (const float* p : {rt, wt, kt, at, bt})
        for (int64_t l = 0; l < N; l += 16) _mm_prefetch(reinterpret_cast<const char*>(p + kAhead * stride + l), _MM_HINT_T0);
      for (int64_t l = 0; l < kV; l += 16) _mm_prefetch(reinterpret_cast<const char*>(vt + kAhead * stride + l), _MM_HINT_T0);
    }
    __m512 sa[kC], sb[kC], vv[kC], y0[kC], y1[kC];
    for (int c = 0; c < kC; ++c) sa[c] = sb[c] = y0[c] = y1[c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < N; j += 2) {
      const __m512 a0 = _mm512_set1_ps(at[j]), a1 = _mm512_set1_ps(at[j + 1]);
      const float *row0 = St + j * kRow, *row1 = row0 + kRow;
      for (int c = 0; c < kC; ++c) {
        sa[c] = _mm512_fmadd_ps(a0, _mm512_load_ps(row0 + 16 * c), sa[c]);
        sb[c] = _mm512_fmadd_ps(a1, _mm512_load_ps(row1 + 16 * c), sb[c]);
      }
    }
    for (int c = 0; c < kC; ++c) {
      sa[c] = _mm512_add_ps(sa[c], sb[c]);
      vv[c] = _mm512_loadu_ps(vt + 16 * c);
    }
    for (int64_t j = 0; j < N; j += 2) {
      for (int e = 0; e < 2; ++e) {
        const __m512 wj = _mm512_set1_ps(wt[j + e]), kj = _mm512_set1_ps(kt[j + e]);
        const __m512 bj = _mm512_set1_ps(bt[j + e]), rj = _mm512_set1_ps(rt[j + e]);
        float* row = St + (j + e) * kRow;
        for (int c = 0; c < kC; ++c) {
          const __m512 s = _mm512_fmadd_ps(
              sa[c], bj, _mm512_fmadd_ps(vv[c], kj, _mm512_mul_ps(_mm512_load_ps(row + 16 * c), wj)));
          _mm512_store_ps(row + 16 * c, s);
          if (e == 0) y0[c] = _mm512_fmadd_ps(s, rj, y0[c]);
          else y1[c] = _mm512_fmadd_ps(s, rj, y1[c]);
        }
      }
    }
    float* yo = y + t * stride + i0;
    for (int c = 0; c < kC; ++c) _mm512_storeu_ps(yo + 16 * c, _mm512_add_ps(y0[c], y1[c]));
  }
  for (int64_t i = 0; i < kV; ++i)
    for (int64_t j = 0; j < N; ++j) S[(i0 + i) * N + j] = St[j * kRow + i];
}
}  // namespace

void wkv7_block_avx512(const float* r, const float* w, const float* k, const float* v, const float* a, const float* b,
                       int64_t T, int64_t stride, int64_t N, int64_t i0, int64_t V, float* S, float* y) {
  if (T == 1) return avx512_build::block_step(r, w, k, v, a, b, N, i0, V, S, y);
  switch (V) {
    case 16: return block_tokens<1>(r, w, k, v, a, b, T, stride, N, i0, S, y);
    case 32: return block_tokens<2>(r, w, k, v, a, b, T, stride, N, i0, S, y);
    case 48: return block_tokens<3>(r, w, k, v, a, b, T, stride, N, i0, S, y);
    case 64:  // Qwen2's head_dim, the common RADLADS case, with its key loop's bound known
      if (N == 128) return block_tokens<4, 128>(r, w, k, v, a, b, T, stride, N, i0, S, y);
      return block_tokens<4>(r, w, k, v, a, b, T, stride, N, i0, S, y);
    default: return avx512_build::block(r, w, k, v, a, b, T, stride, N, i0, V, S, y);
  }
}

void wkv7_head64_avx512(const float* r, const float* w, const float* k, const float* v, const float* a,
                        const float* b, int64_t T, int64_t stride, float* S, float* y) {
  if (T == 1) return avx512_build::head64(r, w, k, v, a, b, T, stride, S, y);
  block_tokens<4, 64>(r, w, k, v, a, b, T, stride, 64, 0, S, y);
}
}  // namespace gander::ops::detail

namespace gander::ops::detail {
void wkv7_prepare_row_avx512(float* k, float* d, const float* a, const float* k_k, const float* k_a, float* a_in,
                             float* b_in, int64_t C, int64_t N) {
  const bool goose = k_k != nullptr;
  const __m512 one = _mm512_set1_ps(1.0f), neg_scale = _mm512_set1_ps(-std::exp(-0.5f));
  for (int64_t h = 0; h < C; h += N) {
    // kappa (k * k_k, or k itself in the balanced form) and its squared norm over the head.
    __m512 ss = _mm512_setzero_ps();
    for (int64_t i = h; i < h + N; i += 16) {
      const __m512 kv = _mm512_loadu_ps(k + i);
      const __m512 kap = goose ? _mm512_mul_ps(kv, _mm512_loadu_ps(k_k + i)) : kv;
      _mm512_storeu_ps(a_in + i, kap);
      ss = _mm512_fmadd_ps(kap, kap, ss);
    }
    const float norm = std::sqrt(_mm512_reduce_add_ps(ss));
    const float inv = 1.0f / (goose ? std::fmax(norm, 1e-12f) : norm + 1e-12f);
    const __m512 vinv = _mm512_set1_ps(inv), neg_inv = _mm512_set1_ps(-inv);
    for (int64_t i = h; i < h + N; i += 16) {
      const __m512 kap = _mm512_loadu_ps(a_in + i), av = _mm512_loadu_ps(a + i);
      _mm512_storeu_ps(b_in + i, _mm512_mul_ps(_mm512_mul_ps(kap, vinv), av));
      _mm512_storeu_ps(a_in + i, _mm512_mul_ps(kap, neg_inv));
      const __m512 kv = _mm512_loadu_ps(k + i);
      const __m512 w = vmath::exp(_mm512_mul_ps(neg_scale, vmath::sigmoid(_mm512_loadu_ps(d + i))));
      _mm512_storeu_ps(d + i, w);
      // Goose: k * (1 + (a - 1) * k_a); balanced: k * (1 - w + a).
      const __m512 f = goose ? _mm512_fmadd_ps(_mm512_sub_ps(av, one), _mm512_loadu_ps(k_a + i), one)
                             : _mm512_add_ps(_mm512_sub_ps(one, w), av);
      _mm512_storeu_ps(k + i, _mm512_mul_ps(kv, f));
    }
  }
}
}  // namespace gander::ops::detail

namespace gander::ops::detail {
void wkv7_output_row_avx512(const float* y, const float* r, const float* k, const float* v, const float* g,
                            const float* ln_w, const float* ln_b, const float* r_k, float eps, float scale, int64_t C,
                            int64_t N, float* out) {
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int64_t h = 0; h < C; h += N) {
    // The head's GroupNorm (the LayerNorm kernel on its slice) or scale, then the bonus and the
    // gate while the slice is still in L1.
    if (ln_w) {
      normalize_avx512(y + h, ln_w + h, ln_b + h, eps, N, out + h);
    } else {
      for (int64_t i = h; i < h + N; i += 16) _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), vscale));
    }
    if (!r_k) {
      for (int64_t i = h; i < h + N; i += 16)
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(out + i), _mm512_loadu_ps(g + i)));
      continue;
    }
    __m512 bonus = _mm512_setzero_ps();
    for (int64_t i = h; i < h + N; i += 16)
      bonus = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(r + i), _mm512_loadu_ps(k + i)), _mm512_loadu_ps(r_k + i),
                              bonus);
    const __m512 b = _mm512_set1_ps(_mm512_reduce_add_ps(bonus));
    for (int64_t i = h; i < h + N; i += 16)
      _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_fmadd_ps(b, _mm512_loadu_ps(v + i), _mm512_loadu_ps(out + i)),
                                              _mm512_loadu_ps(g + i)));
  }
}
}  // namespace gander::ops::detail
