#include "ops/wkv7.h"

#include <algorithm>
#include <cmath>

#include "core/cpu.h"
#include "ops/checks.h"
#include "ops/impl.h"
#include "ops/norm.h"

namespace gander::ops {

namespace detail {
namespace portable_build {
#include "ops/wkv7_head.inc"
}
void wkv7_head64_portable(const float* r, const float* w, const float* k, const float* v, const float* a,
                          const float* b, int64_t T, int64_t stride, float* S, float* y) {
  portable_build::head64(r, w, k, v, a, b, T, stride, S, y);
}
void wkv7_block_portable(const float* r, const float* w, const float* k, const float* v, const float* a,
                         const float* b, int64_t T, int64_t stride, int64_t N, int64_t i0, int64_t V, float* S,
                         float* y) {
  portable_build::block(r, w, k, v, a, b, T, stride, N, i0, V, S, y);
}
}  // namespace detail

namespace {
struct Dims {
  int64_t T, C, H, N;
};
Dims check_wkv7(const Wkv7Args& in, const Tensor& state, const Tensor& y) {
  for (auto [t, name] : {std::pair{&in.r, "r"}, {&in.w, "w"}, {&in.k, "k"}, {&in.v, "v"}, {&in.a, "a"}, {&in.b, "b"}, {&y, "y"}}) {
    require_f32(*t, "wkv7", name);
    require_same_shape(in.r, *t, "wkv7");
  }
  require_f32(state, "wkv7", "state");
  GANDER_CHECK(state.ndim() == 3 && state.dim(1) == state.dim(2), "wkv7: state must be [heads, N, N], got ",
               state.describe());
  Dims d{rows_of(in.r), in.r.dim(-1), state.dim(0), state.dim(1)};
  GANDER_CHECK(d.H * d.N == d.C, "wkv7: state ", state.describe(), " does not match channel count ", d.C);
  return d;
}
}  // namespace

namespace ref {
void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y) {
  const Dims d = check_wkv7(in, state, y);
  const float *r = in.r.data<float>(), *w = in.w.data<float>(), *k = in.k.data<float>();
  const float *v = in.v.data<float>(), *a = in.a.data<float>(), *b = in.b.data<float>();
  float* S = state.data<float>();
  float* py = y.data<float>();
  for (int64_t t = 0; t < d.T; ++t)
    for (int64_t h = 0; h < d.H; ++h) {
      const int64_t o = t * d.C + h * d.N;
      float* Sh = S + h * d.N * d.N;
      for (int64_t i = 0; i < d.N; ++i) {
        double sa = 0;
        for (int64_t j = 0; j < d.N; ++j) sa += double(a[o + j]) * Sh[i * d.N + j];
        double acc = 0;
        for (int64_t j = 0; j < d.N; ++j) {
          float& s = Sh[i * d.N + j];
          s = float(double(s) * w[o + j] + double(v[o + i]) * k[o + j] + sa * b[o + j]);
          acc += double(s) * r[o + j];
        }
        py[o + i] = float(acc);
      }
    }
}
}  // namespace ref

namespace {
void check_prepare(const Wkv7Prepare& p, int64_t N) {
  for (const Tensor* t : std::initializer_list<const Tensor*>{&p.k, &p.d, &p.a, &p.a_in, &p.b_in}) {
    require_f32(*t, "wkv7_prepare", "input");
    require_same_shape(p.k, *t, "wkv7_prepare");
  }
  const int64_t C = p.k.dim(-1);
  if (p.keys == Wkv7Keys::Goose) {
    GANDER_CHECK(p.k_k && p.k_a, "wkv7_prepare: the Goose key form needs k_k and k_a");
    require_numel(*p.k_k, C, "wkv7_prepare", "k_k");
    require_numel(*p.k_a, C, "wkv7_prepare", "k_a");
  }
  GANDER_CHECK(N > 0 && C % N == 0, "wkv7_prepare: width ", C, " is not a multiple of the head size ", N);
}
// exp(-0.5): the decay's soft clamp keeps w in (exp(-exp(-0.5)), 1) = (0.545, 1).
const float kDecayScale = std::exp(-0.5f);
// The smallest norm a removal key is divided by (F.normalize's eps; the balanced form adds it).
constexpr double kKeyNormEps = 1e-12;
}  // namespace

namespace ref {
void wkv7_prepare(Wkv7Prepare& p, int64_t N) {
  check_prepare(p, N);
  const bool goose = p.keys == Wkv7Keys::Goose;
  const int64_t C = p.k.dim(-1), R = rows_of(p.k);
  float *k = p.k.data<float>(), *d = p.d.data<float>(), *ain = p.a_in.data<float>(), *bin = p.b_in.data<float>();
  const float* a = p.a.data<float>();
  const float *kk = goose ? p.k_k->data<float>() : nullptr, *ka = goose ? p.k_a->data<float>() : nullptr;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t h = 0; h < C; h += N) {
      double ss = 0;
      for (int64_t i = h; i < h + N; ++i) {
        const double kap = goose ? double(k[r * C + i] * kk[i]) : double(k[r * C + i]);
        ss += kap * kap;
      }
      const double norm = goose ? std::fmax(std::sqrt(ss), kKeyNormEps) : std::sqrt(ss) + kKeyNormEps;
      for (int64_t i = h; i < h + N; ++i) {
        const int64_t j = r * C + i;
        const double kap = (goose ? double(k[j] * kk[i]) : double(k[j])) / norm;
        ain[j] = float(-kap);
        bin[j] = float(kap * a[j]);
        d[j] = float(std::exp(-double(kDecayScale) / (1.0 + std::exp(-double(d[j])))));
        k[j] = goose ? k[j] * (1.0f + (a[j] - 1.0f) * ka[i]) : float(double(k[j]) * (1.0 - d[j] + a[j]));
      }
    }
}
}  // namespace ref

namespace fast {
void wkv7_prepare(Wkv7Prepare& p, int64_t N) {
  check_prepare(p, N);
  const bool goose = p.keys == Wkv7Keys::Goose;
  const int64_t C = p.k.dim(-1), R = rows_of(p.k);
  float *k = p.k.data<float>(), *d = p.d.data<float>(), *ain = p.a_in.data<float>(), *bin = p.b_in.data<float>();
  const float* a = p.a.data<float>();
  const float *kk = goose ? p.k_k->data<float>() : nullptr, *ka = goose ? p.k_a->data<float>() : nullptr;
  if (!cpu_has_avx512() || N % 16 != 0) return ref::wkv7_prepare(p, N);
#pragma omp parallel for schedule(static) if (R > 1)
  for (int64_t r = 0; r < R; ++r)
    detail::wkv7_prepare_row_avx512(k + r * C, d + r * C, a + r * C, kk, ka, ain + r * C, bin + r * C, C, N);
}
}  // namespace fast

void wkv7_prepare(Wkv7Prepare& p, int64_t N) {
  impl() == Impl::Reference ? ref::wkv7_prepare(p, N) : fast::wkv7_prepare(p, N);
}

namespace fast {
void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y) {
  const Dims d = check_wkv7(in, state, y);
  if (d.N % 16 != 0) return ref::wkv7(in, state, y);
  const float *r = in.r.data<float>(), *w = in.w.data<float>(), *k = in.k.data<float>();
  const float *v = in.v.data<float>(), *a = in.a.data<float>(), *b = in.b.data<float>();
  float* S = state.data<float>();
  float* py = y.data<float>();
  // Heads are independent; each is one thread's sequential walk over the T tokens. Over a chunk
  // they are handed out one by one (the cores of a shared host do not keep the same pace).
  if (d.N == 64) {  // every released RWKV-7
    const detail::Wkv7HeadFn fn = cpu_has_avx512() ? detail::wkv7_head64_avx512 : detail::wkv7_head64_portable;
#pragma omp parallel for schedule(dynamic, 1) if (d.H > 1 && d.T * d.H > 4)
    for (int64_t h = 0; h < d.H; ++h) {
      const int64_t o = h * d.N;
      fn(r + o, w + o, k + o, v + o, a + o, b + o, d.T, d.C, S + h * d.N * d.N, py + o);
    }
    return;
  }
  // Other sizes (RADLADS students keep the teacher's, e.g. 128): blocks of up to 64 value
  // channels, each independent of the others, handed out the same way.
  const detail::Wkv7BlockFn fn = cpu_has_avx512() ? detail::wkv7_block_avx512 : detail::wkv7_block_portable;
  // (Blocks of 32 values ran 20 % slower at N = 128: the broadcasts of w, k, b, r are then
  // shared by half as many FMAs.)
  constexpr int64_t bw = 64;
  const int64_t blocks = (d.N + bw - 1) / bw, items = d.H * blocks;
#pragma omp parallel for schedule(dynamic, 1) if (items > 1 && d.T * items > 4)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t h = item / blocks, i0 = (item % blocks) * bw, o = h * d.N;
    fn(r + o, w + o, k + o, v + o, a + o, b + o, d.T, d.C, d.N, i0, std::min<int64_t>(bw, d.N - i0),
       S + h * d.N * d.N, py + o);
  }
}
}  // namespace fast

void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y) {
  impl() == Impl::Reference ? ref::wkv7(in, state, y) : fast::wkv7(in, state, y);
}

namespace {
void check_output(const Wkv7Output& o, int64_t N, const Tensor& out) {
  for (auto [t, name] : {std::pair{&o.y, "y"}, {&o.r, "r"}, {&o.k, "k"}, {&o.v, "v"}, {&o.g, "g"}, {&out, "out"}}) {
    require_f32(*t, "wkv7_output", name);
    require_same_shape(o.y, *t, "wkv7_output");
  }
  const int64_t C = o.y.dim(-1);
  GANDER_CHECK(!o.ln_w == !o.ln_b, "wkv7_output: ln_w and ln_b come together");
  for (auto [t, name] : {std::pair{o.ln_w, "ln_w"}, {o.ln_b, "ln_b"}, {o.r_k, "r_k"}}) {
    if (!t) continue;
    require_f32(*t, "wkv7_output", name);
    require_numel(*t, C, "wkv7_output", name);
  }
  GANDER_CHECK(N > 0 && C % N == 0, "wkv7_output: width ", C, " is not a multiple of the head size ", N);
}

// out <- (out + bonus * v) * g, where out holds norm(y); the bonus (if any) summed in Acc.
template <typename Acc>
void add_bonus_and_gate(const Wkv7Output& o, int64_t N, float* out) {
  const int64_t C = o.y.dim(-1), R = rows_of(o.y);
  const float *r = o.r.data<float>(), *k = o.k.data<float>(), *v = o.v.data<float>(), *g = o.g.data<float>();
  const float* rk = o.r_k ? o.r_k->data<float>() : nullptr;
#pragma omp parallel for schedule(static) if (R > 4)
  for (int64_t t = 0; t < R; ++t)
    for (int64_t h = 0; h < C; h += N) {
      const int64_t base = t * C + h;
      Acc bonus = 0;
      for (int64_t j = 0; rk && j < N; ++j) bonus += Acc(r[base + j] * k[base + j]) * rk[h + j];
      for (int64_t j = 0; j < N; ++j) out[base + j] = float((out[base + j] + bonus * v[base + j]) * g[base + j]);
    }
}

// out <- y * scale (the balanced form's normalisation).
void scale_rows(const Tensor& y, float scale, Tensor& out) {
  const float* py = y.data<float>();
  float* po = out.data<float>();
  const int64_t n = y.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) po[i] = py[i] * scale;
}
}  // namespace

namespace ref {
void wkv7_output(const Wkv7Output& o, int64_t N, Tensor& out) {
  check_output(o, N, out);
  if (o.ln_w) ref::group_norm(o.y, o.y.dim(-1) / N, *o.ln_w, *o.ln_b, o.eps, out);
  else scale_rows(o.y, o.scale, out);
  add_bonus_and_gate<double>(o, N, out.data<float>());
}
}  // namespace ref

namespace fast {
void wkv7_output(const Wkv7Output& o, int64_t N, Tensor& out) {
  check_output(o, N, out);
  const int64_t C = o.y.dim(-1), R = rows_of(o.y);
  if (!cpu_has_avx512() || N % 16 != 0) {
    if (o.ln_w) fast::group_norm(o.y, C / N, *o.ln_w, *o.ln_b, o.eps, out);
    else scale_rows(o.y, o.scale, out);
    return add_bonus_and_gate<float>(o, N, out.data<float>());
  }
  const float *y = o.y.data<float>(), *r = o.r.data<float>(), *k = o.k.data<float>(), *v = o.v.data<float>();
  const float* g = o.g.data<float>();
  const float* lw = o.ln_w ? o.ln_w->data<float>() : nullptr;
  const float* lb = o.ln_b ? o.ln_b->data<float>() : nullptr;
  const float* rk = o.r_k ? o.r_k->data<float>() : nullptr;
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (R > 4)
  for (int64_t t = 0; t < R; ++t)
    detail::wkv7_output_row_avx512(y + t * C, r + t * C, k + t * C, v + t * C, g + t * C, lw, lb, rk, o.eps, o.scale,
                                   C, N, po + t * C);
}
}  // namespace fast

void wkv7_output(const Wkv7Output& o, int64_t N, Tensor& out) {
  impl() == Impl::Reference ? ref::wkv7_output(o, N, out) : fast::wkv7_output(o, N, out);
}

}  // namespace gander::ops
