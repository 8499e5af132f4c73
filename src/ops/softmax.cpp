#include "ops/softmax.h"

#include <cmath>

#include "core/cpu.h"
#include "ops/checks.h"
#include "ops/elementwise.h"
#include "ops/impl.h"

namespace gander::ops {

namespace {
void check_softmax(const Tensor& x, const Tensor& out) {
  require_f32(x, "softmax", "x");
  require_f32(out, "softmax", "out");
  require_same_shape(x, out, "softmax");
}
}  // namespace

double softmax_row_lse(float* x, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] -= m;
  if (cpu_has_avx512()) detail::activation_avx512(Act::Exp, x, x, n);
  else
    for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
  double sum = 0;  // a long f32 running sum would lose ~1e-5 relative over a 150k vocabulary
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]);
  const float inv = float(1.0 / sum);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
  return double(m) + std::log(sum);
}

void softmax_row(float* x, int64_t n) { softmax_row_lse(x, n); }

namespace ref {
void softmax(const Tensor& x, Tensor& out) {
  check_softmax(x, out);
  const int64_t C = x.dim(-1), R = rows_of(x);
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for (int64_t r = 0; r < R; ++r) {
    double m = -INFINITY, sum = 0;
    for (int64_t c = 0; c < C; ++c) m = std::fmax(m, double(px[r * C + c]));
    for (int64_t c = 0; c < C; ++c) sum += std::exp(double(px[r * C + c]) - m);
    for (int64_t c = 0; c < C; ++c) po[r * C + c] = float(std::exp(double(px[r * C + c]) - m) / sum);
  }
}
}  // namespace ref

namespace fast {
void softmax(const Tensor& x, Tensor& out) {
  check_softmax(x, out);
  const int64_t C = x.dim(-1), R = rows_of(x);
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (R * C > 32768)
  for (int64_t r = 0; r < R; ++r) {
    if (po != px)
      for (int64_t c = 0; c < C; ++c) po[r * C + c] = px[r * C + c];
    softmax_row(po + r * C, C);
  }
}
}  // namespace fast

void softmax(const Tensor& x, Tensor& out) {
  impl() == Impl::Reference ? ref::softmax(x, out) : fast::softmax(x, out);
}

}  // namespace gander::ops
