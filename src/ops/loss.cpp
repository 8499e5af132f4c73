#include "ops/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/checks.h"
#include "ops/matmul.h"
#include "ops/softmax.h"

namespace gander::ops {

namespace {
int64_t check(const HeadLoss& in, const Tensor& dh, const Tensor* dW) {
  require_f32(in.h, "cross_entropy_head", "h");
  require_f32(in.W, "cross_entropy_head", "W");
  const int64_t R = rows_of(in.h), V = rows_of(in.W);
  GANDER_CHECK(in.W.dim(-1) == in.h.dim(-1), "cross_entropy_head: head ", in.W.describe(), " does not fit rows ",
               in.h.describe());
  GANDER_CHECK(int64_t(in.targets.size()) == R, "cross_entropy_head: ", in.targets.size(), " targets for ", R, " rows");
  require_same_shape(in.h, dh, "cross_entropy_head");
  if (dW) require_same_shape(in.W, *dW, "cross_entropy_head");
  int64_t counted = 0;
  for (int32_t t : in.targets) {
    GANDER_CHECK(t < V, "cross_entropy_head: target ", t, " is outside the vocabulary of ", V);
    counted += t >= 0;
  }
  return counted;
}

// Row r of logits [V] -> its loss, and the logits overwritten by their gradient (scale = 1/counted).
double row_loss(float* z, int64_t V, int32_t target, double scale, float l2wrap) {
  if (target < 0) {
    std::fill(z, z + V, 0.0f);
    return 0;
  }
  const int64_t arg = std::max_element(z, z + V) - z;
  const float m = z[arg], picked = z[target];
  const double loss = softmax_row_lse(z, V) - picked;  // z is now softmax(z)
  const float s = float(scale);
#pragma omp simd
  for (int64_t i = 0; i < V; ++i) z[i] *= s;
  z[target] -= float(scale);
  z[arg] += float(double(l2wrap) * m * scale);
  return loss;
}
}  // namespace

double cross_entropy_head(const HeadLoss& in, Tensor& dh, Tensor* dW) {
  const int64_t counted = check(in, dh, dW);
  const int64_t R = rows_of(in.h), V = rows_of(in.W), D = in.h.dim(-1), B = std::max<int64_t>(1, in.block);
  if (counted == 0) {
    dh.fill_zero();
    return 0;
  }
  const double scale = 1.0 / double(counted);
  Tensor z = Tensor::empty(DType::F32, {std::min(B, R), V});
  double total = 0;
  for (int64_t r0 = 0; r0 < R; r0 += B) {
    const int64_t n = std::min(B, R - r0);
    Tensor zb = z.prefix({n, V});
    const Tensor hb = in.h.rows(r0, n).reshape({n, D});
    matmul(hb, false, in.W, true, zb, false, in.precision);
    float* pz = zb.data<float>();
    double part = 0;
#pragma omp parallel for schedule(static) reduction(+ : part)
    for (int64_t i = 0; i < n; ++i) part += row_loss(pz + i * V, V, in.targets[size_t(r0 + i)], scale, in.l2wrap);
    total += part;
    Tensor dhb = dh.rows(r0, n).reshape({n, D});
    matmul(zb, false, in.W, false, dhb, false, in.precision);
    if (dW) matmul(zb, true, hb, false, *dW, true, in.precision);
  }
  return total * scale;
}

namespace ref {
double cross_entropy_head(const HeadLoss& in, Tensor& dh, Tensor* dW) {
  const int64_t counted = check(in, dh, dW);
  const int64_t R = rows_of(in.h), V = rows_of(in.W), D = in.h.dim(-1);
  const float *h = in.h.data<float>(), *W = in.W.data<float>();
  float* pdh = dh.data<float>();
  float* pdW = dW ? dW->data<float>() : nullptr;
  const double scale = counted ? 1.0 / double(counted) : 0.0;
  std::vector<double> z(static_cast<size_t>(V));
  double total = 0;
  for (int64_t r = 0; r < R; ++r) {
    std::fill(pdh + r * D, pdh + (r + 1) * D, 0.0f);
    const int32_t t = in.targets[size_t(r)];
    if (t < 0) continue;
    for (int64_t v = 0; v < V; ++v) {
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += double(h[r * D + d]) * W[v * D + d];
      z[size_t(v)] = s;
    }
    const int64_t arg = std::max_element(z.begin(), z.end()) - z.begin();
    const double m = z[size_t(arg)];
    double sum = 0;
    for (double x : z) sum += std::exp(x - m);
    const double lse = m + std::log(sum);
    total += lse - z[size_t(t)];
    for (int64_t v = 0; v < V; ++v) {
      double g = std::exp(z[size_t(v)] - lse) * scale - (v == t ? scale : 0.0) + (v == arg ? in.l2wrap * m * scale : 0.0);
      for (int64_t d = 0; d < D; ++d) {
        pdh[r * D + d] = float(pdh[r * D + d] + g * W[v * D + d]);
        if (pdW) pdW[v * D + d] = float(pdW[v * D + d] + g * h[r * D + d]);
      }
    }
  }
  return total * scale;
}
}  // namespace ref

}  // namespace gander::ops
