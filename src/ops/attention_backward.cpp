#include "ops/attention_backward.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/checks.h"
#include "ops/matmul.h"
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

namespace {
// Queries per block: the scores of a block against its keys ([64, T] f32) stay in L2.
constexpr int64_t kQueryBlock = 64;

// Head h of a [T, heads, D] tensor as its own contiguous [T, D] matrix, and back (added).
void gather_head(const Tensor& x, int64_t h, Tensor& dst) {
  const int64_t T = x.dim(0), heads = x.dim(1), D = x.dim(2);
  const float* px = x.data<float>();
  float* pd = dst.data<float>();
#pragma omp parallel for schedule(static) if (T * D > (1 << 15))
  for (int64_t t = 0; t < T; ++t) std::copy(px + (t * heads + h) * D, px + (t * heads + h + 1) * D, pd + t * D);
}
void scatter_add_head(const Tensor& src, int64_t h, Tensor& x) {
  const int64_t T = x.dim(0), heads = x.dim(1), D = x.dim(2);
  const float* ps = src.data<float>();
  float* px = x.data<float>();
#pragma omp parallel for schedule(static) if (T * D > (1 << 15))
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < D; ++i) px[(t * heads + h) * D + i] += ps[t * D + i];
}

// The probabilities of a block of n query rows from t0 against keys [0, t0 + n), in place over
// their raw scores S: causal mask, scale, exp(score - lse) (lse given, or computed and returned).
void block_probabilities(Tensor& S, int64_t t0, double scale, float* lse, bool have_lse) {
  const int64_t n = S.dim(0), keys = S.dim(1);
  float* ps = S.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float* row = ps + i * keys;
    const int64_t valid = t0 + i + 1;
    if (!have_lse) {
      float m = -INFINITY;
      for (int64_t s = 0; s < valid; ++s) m = std::fmax(m, row[s] = float(row[s] * scale));
      double sum = 0;
      for (int64_t s = 0; s < valid; ++s) sum += std::exp(double(row[s]) - m);
      lse[i] = float(m + std::log(sum));
      for (int64_t s = 0; s < valid; ++s) row[s] = float(std::exp(double(row[s]) - lse[i]));
    } else {
      for (int64_t s = 0; s < valid; ++s) row[s] = float(std::exp(row[s] * scale - double(lse[i])));
    }
    std::fill(row + valid, row + keys, 0.0f);
  }
}

struct HeadScratch {
  Tensor q, k, v, S;
  HeadScratch(int64_t T, int64_t D)
      : q(Tensor::empty(DType::F32, {T, D})), k(Tensor::empty(DType::F32, {T, D})),
        v(Tensor::empty(DType::F32, {T, D})), S(Tensor::empty(DType::F32, {std::min(T, kQueryBlock), T})) {}
};
}  // namespace

// Per query head, blocks of 64 queries: scores S = Q_b K^T by one matrix product, softmax rows,
// O_b = P V by another; only each row's log-sum-exp is kept.
void attention_train(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, Tensor& lse) {
  const Dims d = check(q, k, v);
  require_same_shape(q, out, "attention_train");
  check_shape(lse, {d.T, d.Hq}, "attention_train: lse");
  if (d.T == 0) return;
  const double scale = 1.0 / std::sqrt(double(d.D));
  HeadScratch w(d.T, d.D);
  Tensor o = Tensor::empty(DType::F32, {d.T, d.D});
  std::vector<float> l(static_cast<size_t>(kQueryBlock));
  float* pl = lse.data<float>();
  out.fill_zero();
  for (int64_t kvh = 0; kvh < d.Hkv; ++kvh) {
    gather_head(k, kvh, w.k);
    gather_head(v, kvh, w.v);
    for (int64_t h = kvh * d.group; h < (kvh + 1) * d.group; ++h) {
      gather_head(q, h, w.q);
      for (int64_t t0 = 0; t0 < d.T; t0 += kQueryBlock) {
        const int64_t n = std::min(kQueryBlock, d.T - t0), keys = t0 + n;
        Tensor S = w.S.prefix({n, keys}), ob = o.rows(t0, n);
        matmul(w.q.rows(t0, n), false, w.k.rows(0, keys), true, S);
        block_probabilities(S, t0, scale, l.data(), false);
        matmul(S, false, w.v.rows(0, keys), false, ob);
        for (int64_t i = 0; i < n; ++i) pl[(t0 + i) * d.Hq + h] = l[size_t(i)];
      }
      scatter_add_head(o, h, out);
    }
  }
}

// The same blocks again: P recomputed from the saved log-sum-exp, dP = dO_b V^T,
// dS = P (dP - rowsum(dO O)) / sqrt(D), then dQ_b = dS K, dK += dS^T Q_b, dV += P^T dO_b.
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv) {
  const Dims d = check(q, k, v);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&out, &dout, &dq}) require_same_shape(q, *t, "attention_backward");
  require_same_shape(k, dk, "attention_backward");
  require_same_shape(k, dv, "attention_backward");
  if (d.T == 0) return;
  const double scale = 1.0 / std::sqrt(double(d.D));
  HeadScratch w(d.T, d.D);
  Tensor o = Tensor::empty(DType::F32, {d.T, d.D}), g = Tensor::empty(DType::F32, {d.T, d.D});
  Tensor gq = Tensor::empty(DType::F32, {d.T, d.D}), gk = Tensor::empty(DType::F32, {d.T, d.D});
  Tensor gv = Tensor::empty(DType::F32, {d.T, d.D}), dS = Tensor::empty(DType::F32, w.S.shape());
  std::vector<float> l(static_cast<size_t>(kQueryBlock)), rowdot(static_cast<size_t>(d.T));
  const float* pl = lse.data<float>();
  for (int64_t kvh = 0; kvh < d.Hkv; ++kvh) {
    gather_head(k, kvh, w.k);
    gather_head(v, kvh, w.v);
    gk.fill_zero();
    gv.fill_zero();
    for (int64_t h = kvh * d.group; h < (kvh + 1) * d.group; ++h) {
      gather_head(q, h, w.q);
      gather_head(out, h, o);
      gather_head(dout, h, g);
      const float *po = o.data<float>(), *pg = g.data<float>();
      for (int64_t t = 0; t < d.T; ++t) rowdot[size_t(t)] = float(dot(pg + t * d.D, po + t * d.D, d.D));
      for (int64_t t0 = 0; t0 < d.T; t0 += kQueryBlock) {
        const int64_t n = std::min(kQueryBlock, d.T - t0), keys = t0 + n;
        Tensor P = w.S.prefix({n, keys}), dP = dS.prefix({n, keys}), qb = w.q.rows(t0, n), gb = g.rows(t0, n);
        Tensor gqb = gq.rows(t0, n);
        for (int64_t i = 0; i < n; ++i) l[size_t(i)] = pl[(t0 + i) * d.Hq + h];
        matmul(qb, false, w.k.rows(0, keys), true, P);
        block_probabilities(P, t0, scale, l.data(), true);
        matmul(gb, false, w.v.rows(0, keys), true, dP);
        float *pp = P.data<float>(), *pd = dP.data<float>();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i)
          for (int64_t s = 0; s < keys; ++s)
            pd[i * keys + s] = float(pp[i * keys + s] * (pd[i * keys + s] - rowdot[size_t(t0 + i)]) * scale);
        matmul(dP, false, w.k.rows(0, keys), false, gqb);
        Tensor gkb = gk.rows(0, keys), gvb = gv.rows(0, keys);
        matmul(dP, true, qb, false, gkb, true);
        matmul(P, true, gb, false, gvb, true);
      }
      scatter_add_head(gq, h, dq);
    }
    scatter_add_head(gk, kvh, dk);
    scatter_add_head(gv, kvh, dv);
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
