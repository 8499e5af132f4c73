// The distillation losses of RADLADS: KL divergence between the teacher's and the student's
// next-token distributions, fused with both heads (loss.h), and the per-token L2 distance of step 1.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "ops/checks.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/softmax.h"

namespace gander::ops {

namespace {
void check(const HeadDistill& in, const Tensor& dh, const Tensor* dW) {
  for (const Tensor* t : {&in.h, &in.W, &in.teacher_h, &in.teacher_W}) require_f32(*t, "kl_divergence_head", "input");
  const int64_t R = rows_of(in.h), V = rows_of(in.W);
  GANDER_CHECK(in.W.dim(-1) == in.h.dim(-1), "kl_divergence_head: head ", in.W.describe(), " does not fit rows ",
               in.h.describe());
  GANDER_CHECK(in.teacher_W.dim(-1) == in.teacher_h.dim(-1), "kl_divergence_head: teacher head ",
               in.teacher_W.describe(), " does not fit rows ", in.teacher_h.describe());
  GANDER_CHECK(rows_of(in.teacher_h) == R && rows_of(in.teacher_W) == V, "kl_divergence_head: teacher ",
               in.teacher_h.describe(), " x ", in.teacher_W.describe(), " does not give the student's ", R, " x ", V,
               " logits");
  require_same_shape(in.h, dh, "kl_divergence_head");
  if (dW) require_same_shape(in.W, *dW, "kl_divergence_head");
}

double log_sum_exp(const double* z, int64_t V) {
  const double m = double(*std::max_element(z, z + V));
  double s = 0;
  for (int64_t i = 0; i < V; ++i) s += std::exp(double(z[i]) - m);
  return m + std::log(s);
}

// One row in double (the reference): student logits zs (overwritten by their gradient times
// scale), teacher logits zt.
double row_kl(double* zs, const double* zt, int64_t V, double scale) {
  const double ls = log_sum_exp(zs, V), lt = log_sum_exp(zt, V);
  double kl = 0;
  for (int64_t i = 0; i < V; ++i) {
    const double log_pt = double(zt[i]) - lt, log_ps = double(zs[i]) - ls, pt = std::exp(log_pt);
    kl += pt * (log_pt - log_ps);
    zs[i] = (std::exp(log_ps) - pt) * scale;
  }
  return kl;
}

// The same row on the fast path: both softmaxes vectorised (ops/softmax.h) into per-thread
// copies, so each logit costs one vector exp instead of two double ones.
double row_kl_fast(float* zs, const float* zt, int64_t V, double scale) {
  thread_local std::vector<float> ps, pt;
  ps.assign(zs, zs + V);
  pt.assign(zt, zt + V);
  const double shift = softmax_row_lse(pt.data(), V) - softmax_row_lse(ps.data(), V);  // lt - ls
  double kl = 0;
  const float s = float(scale);
#pragma omp simd reduction(+ : kl)
  for (int64_t i = 0; i < V; ++i) {
    kl += double(pt[size_t(i)]) * ((double(zt[i]) - zs[i]) - shift);  // p_T (log p_T - log p_S)
    zs[i] = (ps[size_t(i)] - pt[size_t(i)]) * s;
  }
  return kl;
}

void check_l2(const Tensor& y, const Tensor& target, const Tensor& dy) {
  require_f32(y, "l2_distance", "y");
  require_f32(target, "l2_distance", "target");
  require_same_shape(y, target, "l2_distance");
  require_same_shape(y, dy, "l2_distance");
}
}  // namespace

double kl_divergence_head(const HeadDistill& in, Tensor& dh, Tensor* dW) {
  check(in, dh, dW);
  const int64_t R = rows_of(in.h), V = rows_of(in.W), D = in.h.dim(-1), Dt = in.teacher_h.dim(-1);
  const int64_t B = std::max<int64_t>(1, in.block);
  if (R == 0) return 0;
  const double scale = 1.0 / double(R);
  Tensor zs = Tensor::empty(DType::F32, {std::min(B, R), V}), zt = Tensor::empty(DType::F32, {std::min(B, R), V});
  double total = 0;
  for (int64_t r0 = 0; r0 < R; r0 += B) {
    const int64_t n = std::min(B, R - r0);
    Tensor zsb = zs.prefix({n, V}), ztb = zt.prefix({n, V});
    const Tensor hb = in.h.rows(r0, n).reshape({n, D});
    matmul(hb, false, in.W, true, zsb, false, in.precision);
    matmul(in.teacher_h.rows(r0, n).reshape({n, Dt}), false, in.teacher_W, true, ztb, false, in.precision);
    float *ps = zsb.data<float>(), *pt = ztb.data<float>();
    double part = 0;
#pragma omp parallel for schedule(static) reduction(+ : part)
    for (int64_t i = 0; i < n; ++i) part += row_kl_fast(ps + i * V, pt + i * V, V, scale);
    total += part;
    Tensor dhb = dh.rows(r0, n).reshape({n, D});
    matmul(zsb, false, in.W, false, dhb, false, in.precision);
    if (dW) matmul(zsb, true, hb, false, *dW, true, in.precision);
  }
  return total * scale;
}

double l2_distance(const Tensor& y, const Tensor& target, Tensor& dy, double scale) {
  check_l2(y, target, dy);
  const int64_t R = rows_of(y), D = y.numel() ? y.dim(-1) : 0;
  if (R == 0 || D == 0) return 0;
  const float *py = y.data<float>(), *pt = target.data<float>();
  float* pd = dy.data<float>();
  const double norm = 1.0 / std::sqrt(double(D)), per_row = scale * norm / double(R);
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (int64_t r = 0; r < R; ++r) {
    const float *a = py + r * D, *b = pt + r * D;
    double ss = 0;
    for (int64_t c = 0; c < D; ++c) ss += double(a[c] - b[c]) * double(a[c] - b[c]);
    const double e = std::sqrt(ss), g = e > 0 ? per_row / e : 0.0;
    for (int64_t c = 0; c < D; ++c) pd[r * D + c] = float(g * (double(a[c]) - b[c]));
    total += e;
  }
  return total * norm / double(R);
}

namespace ref {
double kl_divergence_head(const HeadDistill& in, Tensor& dh, Tensor* dW) {
  check(in, dh, dW);
  const int64_t R = rows_of(in.h), V = rows_of(in.W), D = in.h.dim(-1), Dt = in.teacher_h.dim(-1);
  const float *h = in.h.data<float>(), *W = in.W.data<float>(), *th = in.teacher_h.data<float>(),
              *tW = in.teacher_W.data<float>();
  float* pdh = dh.data<float>();
  float* pdW = dW ? dW->data<float>() : nullptr;
  const double scale = R ? 1.0 / double(R) : 0.0;
  std::vector<double> zs(static_cast<size_t>(V)), zt(static_cast<size_t>(V));
  double total = 0;
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t v = 0; v < V; ++v) {
      double s = 0, t = 0;
      for (int64_t d = 0; d < D; ++d) s += double(h[r * D + d]) * W[v * D + d];
      for (int64_t d = 0; d < Dt; ++d) t += double(th[r * Dt + d]) * tW[v * Dt + d];
      zs[size_t(v)] = s;
      zt[size_t(v)] = t;
    }
    total += row_kl(zs.data(), zt.data(), V, scale);
    for (int64_t d = 0; d < D; ++d) {
      double g = 0;
      for (int64_t v = 0; v < V; ++v) g += zs[size_t(v)] * W[v * D + d];
      pdh[r * D + d] = float(g);
    }
    if (pdW)
      for (int64_t v = 0; v < V; ++v)
        for (int64_t d = 0; d < D; ++d) pdW[v * D + d] = float(pdW[v * D + d] + zs[size_t(v)] * h[r * D + d]);
  }
  return total * scale;
}

double l2_distance(const Tensor& y, const Tensor& target, Tensor& dy, double scale) {
  check_l2(y, target, dy);
  const std::vector<float> a = y.to_f32_vector(), b = target.to_f32_vector();
  const size_t D = a.empty() ? 0 : size_t(y.dim(-1)), R = D ? a.size() / D : 0;
  std::vector<double> diff(D), grad(a.size());
  double total = 0;
  for (size_t r = 0; r < R; ++r) {
    std::transform(a.begin() + r * D, a.begin() + (r + 1) * D, b.begin() + r * D, diff.begin(),
                   [](float p, float q) { return double(p) - double(q); });
    const double e = std::sqrt(std::inner_product(diff.begin(), diff.end(), diff.begin(), 0.0));
    total += e;
    if (e > 0)  // d e / d y = diff / e, times scale / (sqrt(D) R) for the mean
      std::transform(diff.begin(), diff.end(), grad.begin() + r * D,
                     [&](double x) { return scale * x / (e * std::sqrt(double(D)) * double(R)); });
  }
  float* pd = dy.data<float>();
  for (size_t i = 0; i < grad.size(); ++i) pd[i] = float(grad[i]);
  return R ? total / (std::sqrt(double(D)) * double(R)) : 0.0;
}
}  // namespace ref

}  // namespace gander::ops
