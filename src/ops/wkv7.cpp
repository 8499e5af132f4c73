#include "ops/wkv7.h"

#include "core/cpu.h"
#include "ops/checks.h"
#include "ops/impl.h"

namespace gander::ops {

namespace detail {
namespace portable_build {
#include "ops/wkv7_head64.inc"
}
void wkv7_head64_portable(const float* r, const float* w, const float* k, const float* v, const float* a,
                          const float* b, int64_t T, int64_t stride, float* S, float* y) {
  portable_build::head64(r, w, k, v, a, b, T, stride, S, y);
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

namespace fast {
void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y) {
  const Dims d = check_wkv7(in, state, y);
  if (d.N != 64) return ref::wkv7(in, state, y);  // every released model uses head size 64
  const detail::Wkv7HeadFn fn = cpu_has_avx512() ? detail::wkv7_head64_avx512 : detail::wkv7_head64_portable;
  const float *r = in.r.data<float>(), *w = in.w.data<float>(), *k = in.k.data<float>();
  const float *v = in.v.data<float>(), *a = in.a.data<float>(), *b = in.b.data<float>();
  float* S = state.data<float>();
  float* py = y.data<float>();
  // Heads are independent; each is one thread's sequential walk over the T tokens.
#pragma omp parallel for schedule(static) if (d.H > 1 && d.T * d.H > 4)
  for (int64_t h = 0; h < d.H; ++h) {
    const int64_t o = h * d.N;
    fn(r + o, w + o, k + o, v + o, a + o, b + o, d.T, d.C, S + h * d.N * d.N, py + o);
  }
}
}  // namespace fast

void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y) {
  impl() == Impl::Reference ? ref::wkv7(in, state, y) : fast::wkv7(in, state, y);
}

}  // namespace gander::ops
