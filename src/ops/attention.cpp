#include "ops/attention.h"

#include <cmath>
#include <vector>

#include "ops/checks.h"
#include "ops/impl.h"
#include "ops/softmax.h"

namespace gander::ops {

namespace {
struct Dims {
  int64_t T, Hq, D, S, Hkv, group;
};
Dims check_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t pos0, const Tensor& out) {
  for (auto [t, name] : {std::pair{&q, "q"}, {&k, "k"}, {&v, "v"}, {&out, "out"}}) {
    require_f32(*t, "attention", name);
    GANDER_CHECK(t->ndim() == 3, "attention: '", name, "' must be [tokens, heads, head_dim], got ", t->describe());
  }
  require_same_shape(q, out, "attention");
  require_same_shape(k, v, "attention");
  Dims d{q.dim(0), q.dim(1), q.dim(2), k.dim(0), k.dim(1), 0};
  GANDER_CHECK(k.dim(2) == d.D, "attention: head_dim of q ", q.describe(), " and k ", k.describe(), " differ");
  GANDER_CHECK(d.Hkv > 0 && d.Hq % d.Hkv == 0, "attention: ", d.Hq, " query heads are not a multiple of ", d.Hkv,
               " KV heads");
  GANDER_CHECK(pos0 >= 0 && d.S >= pos0 + d.T, "attention: ", d.S, " keys cannot cover query positions ", pos0, "..",
               pos0 + d.T - 1);
  d.group = d.Hq / d.Hkv;
  return d;
}
}  // namespace

namespace ref {
void attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t pos0, Tensor& out) {
  const Dims d = check_attention(q, k, v, pos0, out);
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  float* po = out.data<float>();
  const double scale = 1.0 / std::sqrt(double(d.D));
  for (int64_t t = 0; t < d.T; ++t)
    for (int64_t h = 0; h < d.Hq; ++h) {
      const int64_t kvh = h / d.group, n = pos0 + t + 1;
      std::vector<double> p(static_cast<size_t>(n));
      double m = -INFINITY, sum = 0;
      for (int64_t s = 0; s < n; ++s) {
        double dot = 0;
        for (int64_t i = 0; i < d.D; ++i) dot += double(pq[(t * d.Hq + h) * d.D + i]) * pk[(s * d.Hkv + kvh) * d.D + i];
        p[size_t(s)] = dot * scale;
        m = std::fmax(m, p[size_t(s)]);
      }
      for (auto& x : p) sum += (x = std::exp(x - m));
      for (int64_t i = 0; i < d.D; ++i) {
        double acc = 0;
        for (int64_t s = 0; s < n; ++s) acc += p[size_t(s)] * pv[(s * d.Hkv + kvh) * d.D + i];
        po[(t * d.Hq + h) * d.D + i] = float(acc / sum);
      }
    }
}
}  // namespace ref

namespace fast {
void attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t pos0, Tensor& out) {
  const Dims d = check_attention(q, k, v, pos0, out);
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  float* po = out.data<float>();
  const float scale = 1.0f / std::sqrt(float(d.D));
#pragma omp parallel
  {
    std::vector<float> p(static_cast<size_t>(d.S));
#pragma omp for collapse(2) schedule(dynamic, 4)
    for (int64_t t = 0; t < d.T; ++t)
      for (int64_t h = 0; h < d.Hq; ++h) {
        const int64_t kvh = h / d.group, n = pos0 + t + 1;
        const float* qh = pq + (t * d.Hq + h) * d.D;
        for (int64_t s = 0; s < n; ++s) {
          const float* ks = pk + (s * d.Hkv + kvh) * d.D;
          float dot = 0;
#pragma omp simd reduction(+ : dot)
          for (int64_t i = 0; i < d.D; ++i) dot += qh[i] * ks[i];
          p[size_t(s)] = dot * scale;
        }
        softmax_row(p.data(), n);
        float* oh = po + (t * d.Hq + h) * d.D;
        for (int64_t i = 0; i < d.D; ++i) oh[i] = 0;
        for (int64_t s = 0; s < n; ++s) {
          const float* vs = pv + (s * d.Hkv + kvh) * d.D;
          const float ps = p[size_t(s)];
#pragma omp simd
          for (int64_t i = 0; i < d.D; ++i) oh[i] += ps * vs[i];
        }
      }
  }
}
}  // namespace fast

void attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t pos0, Tensor& out) {
  impl() == Impl::Reference ? ref::attention(q, k, v, pos0, out) : fast::attention(q, k, v, pos0, out);
}

}  // namespace gander::ops
