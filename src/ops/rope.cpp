#include "ops/rope.h"

#include <cmath>
#include <vector>

#include "ops/checks.h"
#include "ops/impl.h"

namespace gander::ops {

namespace {
void check_rope(const Tensor& x, std::span<const int64_t> positions, const Tensor& out) {
  require_f32(x, "rope", "x");
  require_f32(out, "rope", "out");
  require_same_shape(x, out, "rope");
  GANDER_CHECK(x.ndim() == 3 && x.dim(2) % 2 == 0, "rope: expected [T, heads, even head_dim], got ", x.describe());
  GANDER_CHECK(int64_t(positions.size()) == x.dim(0), "rope: ", positions.size(), " positions for ", x.dim(0), " tokens");
}
// HF computes inv_freq = 1 / theta^(arange(0, D, 2) / D) in f32, then angle = pos * inv_freq in f32,
// then cos/sin in f32. We mirror that rounding so positions far from 0 agree with the reference.
float inv_freq(double theta, int64_t i, int64_t D) {
  const float expo = float(2 * i) / float(D);
  return 1.0f / std::pow(float(theta), expo);
}
}  // namespace

namespace ref {
void rope(const Tensor& x, std::span<const int64_t> positions, double theta, Tensor& out) {
  check_rope(x, positions, out);
  const int64_t T = x.dim(0), H = x.dim(1), D = x.dim(2), half = D / 2;
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < half; ++i) {
        const float a = float(positions[size_t(t)]) * inv_freq(theta, i, D);
        const float c = std::cos(a), s = std::sin(a);
        const float x1 = px[(t * H + h) * D + i], x2 = px[(t * H + h) * D + i + half];
        po[(t * H + h) * D + i] = x1 * c - x2 * s;
        po[(t * H + h) * D + i + half] = x2 * c + x1 * s;
      }
}
}  // namespace ref

namespace fast {
// The cos/sin table is built once per token and shared by all heads.
void rope(const Tensor& x, std::span<const int64_t> positions, double theta, Tensor& out) {
  check_rope(x, positions, out);
  const int64_t T = x.dim(0), H = x.dim(1), D = x.dim(2), half = D / 2;
  std::vector<float> freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) freq[size_t(i)] = inv_freq(theta, i, D);
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (T * H * D > 16384)
  for (int64_t t = 0; t < T; ++t) {
    std::vector<float> cs(static_cast<size_t>(half)), sn(cs.size());
    for (int64_t i = 0; i < half; ++i) {
      const float a = float(positions[size_t(t)]) * freq[size_t(i)];
      cs[size_t(i)] = std::cos(a);
      sn[size_t(i)] = std::sin(a);
    }
    for (int64_t h = 0; h < H; ++h) {
      const float* xh = px + (t * H + h) * D;
      float* yh = po + (t * H + h) * D;
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = xh[i], x2 = xh[i + half];
        yh[i] = x1 * cs[size_t(i)] - x2 * sn[size_t(i)];
        yh[i + half] = x2 * cs[size_t(i)] + x1 * sn[size_t(i)];
      }
    }
  }
}
}  // namespace fast

void rope(const Tensor& x, std::span<const int64_t> positions, double theta, Tensor& out) {
  impl() == Impl::Reference ? ref::rope(x, positions, theta, out) : fast::rope(x, positions, theta, out);
}

}  // namespace gander::ops
