#include "ops/norm.h"

#include <cmath>

#include "core/cpu.h"
#include "ops/checks.h"
#include "ops/impl.h"

namespace gander::ops {

namespace {
void check_norm(const char* op, const Tensor& x, const Tensor& out, int64_t group) {
  require_f32(x, op, "x");
  require_f32(out, op, "out");
  require_same_shape(x, out, op);
  GANDER_CHECK(x.ndim() >= 1 && group > 0 && x.dim(-1) % group == 0, op, ": row width ", x.dim(-1),
               " is not a multiple of the group size ", group);
}
void check_affine(const char* op, const Tensor& x, const Tensor& w, const Tensor* b) {
  require_f32(w, op, "weight");
  require_numel(w, x.dim(-1), op, "weight");
  if (b) {
    require_f32(*b, op, "bias");
    require_numel(*b, x.dim(-1), op, "bias");
  }
}
}  // namespace

namespace ref {
// Plain loops with double accumulators: the obviously-right answer.
void group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, float eps, Tensor& out) {
  GANDER_CHECK(groups > 0, "group_norm: groups must be positive");
  check_norm("group_norm", x, out, x.dim(-1) / groups);
  check_affine("group_norm", x, w, &b);
  const int64_t C = x.dim(-1), R = rows_of(x), G = C / groups;
  const float *px = x.data<float>(), *pw = w.data<float>(), *pb = b.data<float>();
  float* po = out.data<float>();
  for (int64_t r = 0; r < R; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t base = r * C + g * G;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < G; ++i) mean += px[base + i];
      mean /= double(G);
      for (int64_t i = 0; i < G; ++i) var += (px[base + i] - mean) * (px[base + i] - mean);
      var /= double(G);
      const double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < G; ++i) {
        const int64_t c = g * G + i;
        po[base + i] = float((px[base + i] - mean) * inv * pw[c] + pb[c]);
      }
    }
}
void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  check_norm("rms_norm", x, out, x.dim(-1));
  check_affine("rms_norm", x, w, nullptr);
  const int64_t C = x.dim(-1), R = rows_of(x);
  const float *px = x.data<float>(), *pw = w.data<float>();
  float* po = out.data<float>();
  for (int64_t r = 0; r < R; ++r) {
    double ss = 0;
    for (int64_t c = 0; c < C; ++c) ss += double(px[r * C + c]) * px[r * C + c];
    const double inv = 1.0 / std::sqrt(ss / double(C) + eps);
    for (int64_t c = 0; c < C; ++c) po[r * C + c] = float(px[r * C + c] * inv * pw[c]);
  }
}
void l2_norm_groups(const Tensor& x, int64_t group, float eps, Tensor& out) {
  check_norm("l2_norm_groups", x, out, group);
  const int64_t n = x.numel();
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for (int64_t base = 0; base < n; base += group) {
    double ss = 0;
    for (int64_t i = 0; i < group; ++i) ss += double(px[base + i]) * px[base + i];
    const double norm = std::fmax(std::sqrt(ss), double(eps));
    for (int64_t i = 0; i < group; ++i) po[base + i] = float(px[base + i] / norm);
  }
}
}  // namespace ref

namespace fast {
// f32 two-pass statistics, vectorised, rows in parallel. A row is reduced by one thread in a
// fixed order, so results do not depend on the thread count.
namespace {
void normalize_slice(const float* x, const float* w, const float* b, float eps, int64_t n, float* y) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = sum / float(n);
  float var = 0;
#pragma omp simd reduction(+ : var)
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(var / float(n) + eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * w[i] + b[i];
}
}  // namespace

void group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, float eps, Tensor& out) {
  GANDER_CHECK(groups > 0, "group_norm: groups must be positive");
  check_norm("group_norm", x, out, x.dim(-1) / groups);
  check_affine("group_norm", x, w, &b);
  const int64_t C = x.dim(-1), R = rows_of(x), G = C / groups;
  const float *px = x.data<float>(), *pw = w.data<float>(), *pb = b.data<float>();
  float* po = out.data<float>();
  const auto slice = cpu_has_avx512() ? detail::normalize_avx512 : normalize_slice;
#pragma omp parallel for schedule(static) if (R * C > 32768)
  for (int64_t r = 0; r < R; ++r)
    for (int64_t g = 0; g < groups; ++g) slice(px + r * C + g * G, pw + g * G, pb + g * G, eps, G, po + r * C + g * G);
}
void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  check_norm("rms_norm", x, out, x.dim(-1));
  check_affine("rms_norm", x, w, nullptr);
  const int64_t C = x.dim(-1), R = rows_of(x);
  const float *px = x.data<float>(), *pw = w.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (R * C > 32768)
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = px + r * C;
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t c = 0; c < C; ++c) ss += xr[c] * xr[c];
    const float inv = 1.0f / std::sqrt(ss / float(C) + eps);
    float* yr = po + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * inv * pw[c];
  }
}
void l2_norm_groups(const Tensor& x, int64_t group, float eps, Tensor& out) {
  check_norm("l2_norm_groups", x, out, group);
  const int64_t n = x.numel(), slices = n / group;
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t s = 0; s < slices; ++s) {
    const float* xs = px + s * group;
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < group; ++i) ss += xs[i] * xs[i];
    const float inv = 1.0f / std::fmax(std::sqrt(ss), eps);
    float* ys = po + s * group;
#pragma omp simd
    for (int64_t i = 0; i < group; ++i) ys[i] = xs[i] * inv;
  }
}
}  // namespace fast

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& out) {
  group_norm(x, 1, w, b, eps, out);
}
void group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, float eps, Tensor& out) {
  impl() == Impl::Reference ? ref::group_norm(x, groups, w, b, eps, out) : fast::group_norm(x, groups, w, b, eps, out);
}
void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  impl() == Impl::Reference ? ref::rms_norm(x, w, eps, out) : fast::rms_norm(x, w, eps, out);
}
void l2_norm_groups(const Tensor& x, int64_t group, float eps, Tensor& out) {
  impl() == Impl::Reference ? ref::l2_norm_groups(x, group, eps, out) : fast::l2_norm_groups(x, group, eps, out);
}

}  // namespace gander::ops
