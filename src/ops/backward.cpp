#include "ops/backward.h"

#include <omp.h>

#include <vector>

#include "ops/checks.h"
#include "ops/grad_kernels.h"
#include "ops/impl.h"

namespace gander::ops {

namespace {

std::vector<double> widen(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<double>(p, p + t.numel());
}
void add_into(Tensor* t, const std::vector<double>& d) {
  if (!t) return;
  float* p = t->data<float>();
  for (size_t i = 0; i < d.size(); ++i) p[i] = float(double(p[i]) + d[i]);
}
void check_grad(const Tensor* g, const Tensor& like, const char* op, const char* name) {
  if (!g) return;
  require_f32(*g, op, name);
  GANDER_CHECK(g->numel() == like.numel(), op, ": gradient '", name, "' ", g->describe(), " does not match ",
               like.describe());
}

// Rows [0, R) of a row-wise op in parallel; per-channel gradients (C of them) summed per thread in
// f64 and then over threads in thread order, so the result does not depend on the schedule.
template <class RowFn>
void rows_with_channel_sums(int64_t R, int64_t C, int nsums, float* const* sums, RowFn row) {
  const int threads = R * C > 32768 ? omp_get_max_threads() : 1;
  std::vector<std::vector<double>> part(size_t(threads), std::vector<double>(size_t(nsums * C), 0.0));
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = R * t / nt, r1 = R * (t + 1) / nt;
    for (int64_t r = r0; r < r1; ++r) row(r, part[size_t(t)].data());
  }
  for (int s = 0; s < nsums; ++s) {
    if (!sums[s]) continue;
    for (int64_t c = 0; c < C; ++c) {
      double v = double(sums[s][c]);
      for (const auto& p : part) v += p[size_t(s * C + c)];
      sums[s][c] = float(v);
    }
  }
}

void check_act(const Tensor& x, const Tensor& dy, const Tensor& dx) {
  require_f32(x, "activation_backward", "x");
  require_same_shape(x, dy, "activation_backward");
  check_grad(&dx, x, "activation_backward", "dx");
}
void check_lerp(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& dout, const Tensor* da,
                const Tensor* db, const Tensor* dmix) {
  require_f32(a, "lerp_backward", "a");
  require_same_shape(a, b, "lerp_backward");
  require_same_shape(a, dout, "lerp_backward");
  GANDER_CHECK(mix.numel() == a.dim(-1) || mix.numel() == a.numel(), "lerp_backward: mix ", mix.describe(),
               " is neither one row nor the shape of ", a.describe());
  check_grad(da, a, "lerp_backward", "da");
  check_grad(db, a, "lerp_backward", "db");
  check_grad(dmix, mix, "lerp_backward", "dmix");
}
void check_norm(const char* op, const Tensor& x, int64_t groups, const Tensor* w, const Tensor& dy, const Tensor& dx,
                const Tensor* dw, const Tensor* db) {
  require_f32(x, op, "x");
  require_same_shape(x, dy, op);
  GANDER_CHECK(groups > 0 && x.dim(-1) % groups == 0, op, ": width ", x.dim(-1), " does not split into ", groups,
               " groups");
  if (w) require_numel(*w, x.dim(-1), op, "weight");
  check_grad(&dx, x, op, "dx");
  if (dw) require_numel(*dw, x.dim(-1), op, "dw");
  if (db) require_numel(*db, x.dim(-1), op, "db");
}

// The group norm backward of rows [r0, r1) in S, channel gradients added to dw/db (row-local).
template <class S>
void norm_rows(const S* x, int64_t groups, const S* w, S eps, bool centered, const S* dy, S* dx, S* dw, S* db,
               int64_t C, int64_t r) {
  const int64_t G = C / groups;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t o = r * C + g * G;
    kern::norm_row_backward(x + o, w ? w + g * G : nullptr, eps, G, centered, dy + o, dx + o,
                            dw ? dw + g * G : nullptr, db ? db + g * G : nullptr);
  }
}

void norm_ref(const Tensor& x, int64_t groups, const Tensor* w, float eps, bool centered, const Tensor& dy, Tensor& dx,
              Tensor* dw, Tensor* db) {
  const int64_t C = x.dim(-1), R = rows_of(x);
  const auto xd = widen(x), dyd = widen(dy);
  const auto wd = w ? widen(*w) : std::vector<double>();
  std::vector<double> dxd(xd.size(), 0.0), dwd(size_t(C), 0.0), dbd(size_t(C), 0.0);
  for (int64_t r = 0; r < R; ++r)
    norm_rows<double>(xd.data(), groups, w ? wd.data() : nullptr, eps, centered, dyd.data(), dxd.data(),
                      dw ? dwd.data() : nullptr, db ? dbd.data() : nullptr, C, r);
  add_into(&dx, dxd);
  add_into(dw, dwd);
  add_into(db, dbd);
}

void norm_fast(const Tensor& x, int64_t groups, const Tensor* w, float eps, bool centered, const Tensor& dy,
               Tensor& dx, Tensor* dw, Tensor* db) {
  const int64_t C = x.dim(-1), R = rows_of(x), G = C / groups;
  const float *px = x.data<float>(), *pw = w ? w->data<float>() : nullptr, *pdy = dy.data<float>();
  float* pdx = dx.data<float>();
  float* sums[2] = {dw ? dw->data<float>() : nullptr, db ? db->data<float>() : nullptr};
  rows_with_channel_sums(R, C, 2, sums, [&](int64_t r, double* part) {
    std::vector<float> lw(size_t(C), 0.0f), lb(size_t(C), 0.0f);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t o = r * C + g * G;
      kern::norm_row_backward(px + o, pw ? pw + g * G : nullptr, eps, G, centered, pdy + o, pdx + o,
                              lw.data() + g * G, lb.data() + g * G);
    }
    for (int64_t c = 0; c < C; ++c) {
      part[c] += lw[size_t(c)];
      part[C + c] += lb[size_t(c)];
    }
  });
}

}  // namespace

namespace ref {
void activation_backward(Act a, const Tensor& x, const Tensor& dy, Tensor& dx) {
  check_act(x, dy, dx);
  const float *px = x.data<float>(), *pd = dy.data<float>();
  float* po = dx.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i)
    po[i] = float(double(po[i]) + double(pd[i]) * kern::act_derivative<double>(a, double(px[i])));
}
void lerp_backward(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& dout, Tensor* da, Tensor* db,
                   Tensor* dmix) {
  check_lerp(a, b, mix, dout, da, db, dmix);
  const int64_t C = a.dim(-1), n = a.numel();
  const bool row = mix.numel() == C && n != C;
  const float *pa = a.data<float>(), *pb = b.data<float>(), *pm = mix.data<float>(), *pd = dout.data<float>();
  std::vector<double> ga(size_t(n), 0.0), gb(size_t(n), 0.0), gm(size_t(mix.numel()), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t m = row ? i % C : i;
    ga[size_t(i)] = double(pd[i]) * (1.0 - pm[m]);
    gb[size_t(i)] = double(pd[i]) * pm[m];
    gm[size_t(m)] += double(pd[i]) * (double(pb[i]) - pa[i]);
  }
  add_into(da, ga);
  add_into(db, gb);
  add_into(dmix, gm);
}
void group_norm_backward(const Tensor& x, int64_t groups, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db) {
  check_norm("group_norm_backward", x, groups, &w, dy, dx, dw, db);
  norm_ref(x, groups, &w, eps, true, dy, dx, dw, db);
}
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx, Tensor* dw) {
  check_norm("rms_norm_backward", x, 1, &w, dy, dx, dw, nullptr);
  norm_ref(x, 1, &w, eps, false, dy, dx, dw, nullptr);
}
}  // namespace ref

namespace fast {
void activation_backward(Act a, const Tensor& x, const Tensor& dy, Tensor& dx) {
  check_act(x, dy, dx);
  const float *px = x.data<float>(), *pd = dy.data<float>();
  float* po = dx.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) po[i] += pd[i] * kern::act_derivative<float>(a, px[i]);
}
void lerp_backward(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& dout, Tensor* da, Tensor* db,
                   Tensor* dmix) {
  check_lerp(a, b, mix, dout, da, db, dmix);
  const int64_t C = a.dim(-1), R = rows_of(a);
  const bool row = mix.numel() == C && R > 1;
  const float *pa = a.data<float>(), *pb = b.data<float>(), *pm = mix.data<float>(), *pd = dout.data<float>();
  float *ga = da ? da->data<float>() : nullptr, *gb = db ? db->data<float>() : nullptr;
  float* gm = dmix ? dmix->data<float>() : nullptr;
  float* sums[1] = {row ? gm : nullptr};
  rows_with_channel_sums(R, C, 1, sums, [&](int64_t r, double* part) {
    const float* m = row ? pm : pm + r * C;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = r * C + c;
      if (ga) ga[i] += pd[i] * (1.0f - m[c]);
      if (gb) gb[i] += pd[i] * m[c];
      const float gmix = pd[i] * (pb[i] - pa[i]);
      if (row) part[c] += gmix;
      else if (gm) gm[i] += gmix;
    }
  });
}
void group_norm_backward(const Tensor& x, int64_t groups, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db) {
  check_norm("group_norm_backward", x, groups, &w, dy, dx, dw, db);
  norm_fast(x, groups, &w, eps, true, dy, dx, dw, db);
}
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx, Tensor* dw) {
  check_norm("rms_norm_backward", x, 1, &w, dy, dx, dw, nullptr);
  norm_fast(x, 1, &w, eps, false, dy, dx, dw, nullptr);
}
}  // namespace fast

void activation_backward(Act a, const Tensor& x, const Tensor& dy, Tensor& dx) {
  impl() == Impl::Reference ? ref::activation_backward(a, x, dy, dx) : fast::activation_backward(a, x, dy, dx);
}
void lerp_backward(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& dout, Tensor* da, Tensor* db,
                   Tensor* dmix) {
  impl() == Impl::Reference ? ref::lerp_backward(a, b, mix, dout, da, db, dmix)
                            : fast::lerp_backward(a, b, mix, dout, da, db, dmix);
}
void group_norm_backward(const Tensor& x, int64_t groups, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db) {
  impl() == Impl::Reference ? ref::group_norm_backward(x, groups, w, eps, dy, dx, dw, db)
                            : fast::group_norm_backward(x, groups, w, eps, dy, dx, dw, db);
}
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx, Tensor* dw) {
  impl() == Impl::Reference ? ref::rms_norm_backward(x, w, eps, dy, dx, dw)
                            : fast::rms_norm_backward(x, w, eps, dy, dx, dw);
}

}  // namespace gander::ops
