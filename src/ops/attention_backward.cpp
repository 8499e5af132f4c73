#include "ops/attention_backward.h"

#include <cmath>
#include <vector>

#include "ops/checks.h"
#include "ops/rope.h"

namespace gander::ops {

namespace {
struct Dims {
  int64_t T, Hq, Hkv, D, group;
};
Dims check(const Tensor& q, const Tensor& k, const Tensor& v) {
  for (const Tensor* t : {&q, &k, &v}) {
    require_f32(*t, "attention_train", "q/k/v");
    GANDER_CHECK(t->ndim() == 3, "attention_train: expected [tokens, heads, head_dim], got ", t->describe());
  }
  require_same_shape(k, v, "attention_train");
  const Dims d{q.dim(0), q.dim(1), k.dim(1), q.dim(2), 0};
  GANDER_CHECK(k.dim(0) == d.T && k.dim(2) == d.D && d.Hkv > 0 && d.Hq % d.Hkv == 0, "attention_train: q ",
               q.describe(), " and k ", k.describe(), " do not fit");
  return {d.T, d.Hq, d.Hkv, d.D, d.Hq / d.Hkv};
}
double dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(a[i]) * b[i];
  return s;
}
}  // namespace

void attention_train(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, Tensor& lse) {
  const Dims d = check(q, k, v);
  require_same_shape(q, out, "attention_train");
  check_shape(lse, {d.T, d.Hq}, "attention_train: lse");
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  float *po = out.data<float>(), *pl = lse.data<float>();
  const double scale = 1.0 / std::sqrt(double(d.D));
#pragma omp parallel for collapse(2) schedule(dynamic, 4)
  for (int64_t h = 0; h < d.Hq; ++h)
    for (int64_t t = 0; t < d.T; ++t) {
      const int64_t kvh = h / d.group;
      std::vector<double> p(static_cast<size_t>(t + 1));
      double m = -INFINITY;
      for (int64_t s = 0; s <= t; ++s) {
        p[size_t(s)] = dot(pq + (t * d.Hq + h) * d.D, pk + (s * d.Hkv + kvh) * d.D, d.D) * scale;
        m = std::fmax(m, p[size_t(s)]);
      }
      double sum = 0;
      for (double& x : p) sum += (x = std::exp(x - m));
      std::vector<double> acc(static_cast<size_t>(d.D), 0.0);
      for (int64_t s = 0; s <= t; ++s)
        for (int64_t i = 0; i < d.D; ++i) acc[size_t(i)] += p[size_t(s)] * pv[(s * d.Hkv + kvh) * d.D + i];
      for (int64_t i = 0; i < d.D; ++i) po[(t * d.Hq + h) * d.D + i] = float(acc[size_t(i)] / sum);
      pl[t * d.Hq + h] = float(m + std::log(sum));
    }
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv) {
  const Dims d = check(q, k, v);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&out, &dout, &dq}) require_same_shape(q, *t, "attention_backward");
  require_same_shape(k, dk, "attention_backward");
  require_same_shape(k, dv, "attention_backward");
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>(), *po = out.data<float>();
  const float *pl = lse.data<float>(), *pd = dout.data<float>();
  float *gq = dq.data<float>(), *gk = dk.data<float>(), *gv = dv.data<float>();
  const double scale = 1.0 / std::sqrt(double(d.D));
  // One KV head per thread: its dk, dv gather from every query head of its group and row.
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t kvh = 0; kvh < d.Hkv; ++kvh) {
    std::vector<double> gkh(static_cast<size_t>(d.T * d.D), 0.0), gvh(gkh.size(), 0.0), gqr(static_cast<size_t>(d.D));
    for (int64_t h = kvh * d.group; h < (kvh + 1) * d.group; ++h)
      for (int64_t t = 0; t < d.T; ++t) {
        const float *qt = pq + (t * d.Hq + h) * d.D, *dot_t = pd + (t * d.Hq + h) * d.D;
        const double l = pl[t * d.Hq + h], Dt = dot(dot_t, po + (t * d.Hq + h) * d.D, d.D);
        std::fill(gqr.begin(), gqr.end(), 0.0);
        for (int64_t s = 0; s <= t; ++s) {
          const float *ks = pk + (s * d.Hkv + kvh) * d.D, *vs = pv + (s * d.Hkv + kvh) * d.D;
          const double p = std::exp(dot(qt, ks, d.D) * scale - l);
          const double ds = p * (dot(dot_t, vs, d.D) - Dt) * scale;
          for (int64_t i = 0; i < d.D; ++i) {
            gqr[size_t(i)] += ds * ks[i];
            gkh[size_t(s * d.D + i)] += ds * qt[i];
            gvh[size_t(s * d.D + i)] += p * dot_t[i];
          }
        }
        float* gqt = gq + (t * d.Hq + h) * d.D;
        for (int64_t i = 0; i < d.D; ++i) gqt[i] = float(gqt[i] + gqr[size_t(i)]);
      }
    for (int64_t s = 0; s < d.T; ++s)
      for (int64_t i = 0; i < d.D; ++i) {
        const int64_t j = (s * d.Hkv + kvh) * d.D + i;
        gk[j] = float(gk[j] + gkh[size_t(s * d.D + i)]);
        gv[j] = float(gv[j] + gvh[size_t(s * d.D + i)]);
      }
  }
}

namespace ref {
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dout, Tensor& dq, Tensor& dk,
                        Tensor& dv) {
  const Dims d = check(q, k, v);
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>(), *pd = dout.data<float>();
  float *gq = dq.data<float>(), *gk = dk.data<float>(), *gv = dv.data<float>();
  const double scale = 1.0 / std::sqrt(double(d.D));
  for (int64_t h = 0; h < d.Hq; ++h) {
    const int64_t kvh = h / d.group;
    for (int64_t t = 0; t < d.T; ++t) {
      std::vector<double> p(static_cast<size_t>(t + 1)), dp(p.size());
      double m = -INFINITY, sum = 0;
      for (int64_t s = 0; s <= t; ++s) m = std::fmax(m, p[size_t(s)] = dot(pq + (t * d.Hq + h) * d.D, pk + (s * d.Hkv + kvh) * d.D, d.D) * scale);
      for (double& x : p) sum += (x = std::exp(x - m));
      for (double& x : p) x /= sum;
      double pdp = 0;
      for (int64_t s = 0; s <= t; ++s) {
        dp[size_t(s)] = dot(pd + (t * d.Hq + h) * d.D, pv + (s * d.Hkv + kvh) * d.D, d.D);
        pdp += p[size_t(s)] * dp[size_t(s)];
      }
      for (int64_t s = 0; s <= t; ++s) {
        const double ds = p[size_t(s)] * (dp[size_t(s)] - pdp) * scale;
        for (int64_t i = 0; i < d.D; ++i) {
          gq[(t * d.Hq + h) * d.D + i] += float(ds * pk[(s * d.Hkv + kvh) * d.D + i]);
          gk[(s * d.Hkv + kvh) * d.D + i] += float(ds * pq[(t * d.Hq + h) * d.D + i]);
          gv[(s * d.Hkv + kvh) * d.D + i] += float(p[size_t(s)] * pd[(t * d.Hq + h) * d.D + i]);
        }
      }
    }
  }
}
}  // namespace ref

void rope_backward(const Tensor& dy, std::span<const int64_t> positions, double theta, Tensor& dx) {
  std::vector<int64_t> minus(positions.begin(), positions.end());
  for (int64_t& p : minus) p = -p;
  rope(dy, minus, theta, dx);
}

void repeat_heads_backward(const Tensor& dout, int64_t group, int64_t N, Tensor& dx) {
  require_f32(dout, "repeat_heads_backward", "dout");
  require_f32(dx, "repeat_heads_backward", "dx");
  const int64_t T = rows_of(dx), KV = dx.dim(-1), H = KV / N * group;
  GANDER_CHECK(rows_of(dout) == T && dout.dim(-1) == H * N, "repeat_heads_backward: ", dout.describe(),
               " is not ", dx.describe(), " repeated ", group, " times");
  const float* pd = dout.data<float>();
  float* px = dx.data<float>();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < N; ++i) px[t * KV + (h / group) * N + i] += pd[t * H * N + h * N + i];
}

}  // namespace gander::ops
