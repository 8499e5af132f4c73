#include "ops/gla.h"

#include <vector>

#include "ops/checks.h"
#include "ops/wkv7.h"
#include "ops/wkv7_backward.h"

namespace gander::ops {

namespace {
void check(const GlaArgs& in, const Tensor& state, const Tensor& y) {
  for (const Tensor* t : {&in.r, &in.w, &in.k, &in.v, &y}) require_f32(*t, "gla", "input");
  for (const Tensor* t : {&in.w, &in.k, &in.v, &y}) require_same_shape(in.r, *t, "gla");
  require_f32(state, "gla", "state");
  GANDER_CHECK(state.ndim() == 3 && state.dim(1) == state.dim(2) && state.dim(0) * state.dim(1) == in.r.dim(-1),
               "gla: state ", state.describe(), " does not fit ", in.r.describe());
}
// The removal term's inputs, zero: a = b = 0 turns WKV7 into GLA.
Tensor zeros_like(const Tensor& t) { return Tensor::zeros(DType::F32, t.shape()); }
}  // namespace

void gla(const GlaArgs& in, Tensor& state, Tensor& y) {
  check(in, state, y);
  const Tensor zero = zeros_like(in.r);
  wkv7({in.r, in.w, in.k, in.v, zero, zero}, state, y);
}

void gla_forward_checkpointed(const GlaArgs& in, Tensor& state, Tensor& y, Tensor& checkpoints) {
  check(in, state, y);
  const Tensor zero = zeros_like(in.r);
  wkv7_forward_checkpointed({in.r, in.w, in.k, in.v, zero, zero}, state, y, checkpoints);
}

void gla_backward(const GlaArgs& in, const Tensor& checkpoints, const Tensor& dy, const GlaGrads& g, Tensor& d_state) {
  const Tensor zero = zeros_like(in.r);
  Tensor da = zeros_like(in.r), db = zeros_like(in.r);
  wkv7_backward({in.r, in.w, in.k, in.v, zero, zero}, checkpoints, dy, {g.r, g.w, g.k, g.v, da, db}, d_state);
}

namespace ref {
void gla(const GlaArgs& in, Tensor& state, Tensor& y) {
  check(in, state, y);
  const int64_t H = state.dim(0), N = state.dim(1), C = H * N, T = rows_of(in.r);
  const float *r = in.r.data<float>(), *w = in.w.data<float>(), *k = in.k.data<float>(), *v = in.v.data<float>();
  float* ps = state.data<float>();
  float* py = y.data<float>();
  std::vector<double> S(size_t(N * N));  // S[key][value]
  for (int64_t h = 0; h < H; ++h) {
    float* sh = ps + h * N * N;  // held [value][key]
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < N; ++j) S[size_t(i * N + j)] = sh[j * N + i];
    for (int64_t t = 0; t < T; ++t) {
      const int64_t o = t * C + h * N;
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < N; ++j)
          S[size_t(i * N + j)] = double(w[o + i]) * S[size_t(i * N + j)] + double(k[o + i]) * v[o + j];
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t i = 0; i < N; ++i) s += double(r[o + i]) * S[size_t(i * N + j)];
        py[o + j] = float(s);
      }
    }
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < N; ++j) sh[j * N + i] = float(S[size_t(i * N + j)]);
  }
}
}  // namespace ref

}  // namespace gander::ops
