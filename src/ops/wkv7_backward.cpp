#include "ops/wkv7_backward.h"

#include <omp.h>

#include <cmath>
#include <vector>

#include "ops/checks.h"
#include "ops/grad_kernels.h"

namespace gander::ops {

namespace {

constexpr double kKeyNormEps = 1e-12;  // as wkv7_prepare
const double kDecayScale = std::exp(-0.5);

struct Dims {
  int64_t T, C, H, N;
};
Dims check_seq(const Wkv7Args& in, const Tensor& state) {
  for (const Tensor* t : {&in.r, &in.w, &in.k, &in.v, &in.a, &in.b}) {
    require_f32(*t, "wkv7_backward", "input");
    require_same_shape(in.r, *t, "wkv7_backward");
  }
  GANDER_CHECK(state.ndim() == 3 && state.dim(1) == state.dim(2) && state.dim(0) * state.dim(1) == in.r.dim(-1),
               "wkv7_backward: state ", state.describe(), " does not fit inputs ", in.r.describe());
  return {rows_of(in.r), in.r.dim(-1), state.dim(0), state.dim(1)};
}
void check_grads(const Wkv7Grads& g, const Tensor& like) {
  for (const Tensor* t : std::initializer_list<const Tensor*>{&g.r, &g.w, &g.k, &g.v, &g.a, &g.b}) {
    require_f32(*t, "wkv7_backward", "gradient");
    require_same_shape(like, *t, "wkv7_backward");
  }
}

// One token of one head backward. dS: the gradient of the state after the token, on return that
// of the state before it; S1, S0: the states after and before. Accumulators dr..da are per key
// channel j (written, not added), dv per value channel i.
template <class S>
void step_backward(int64_t N, const S* S0, const S* S1, const float* r, const float* w, const float* k,
                   const float* v, const float* a, const float* b, const float* dy, S* dS, S* dr, S* dw, S* dk, S* dv,
                   S* da, S* db) {
  for (int64_t j = 0; j < N; ++j) dr[j] = dw[j] = dk[j] = da[j] = db[j] = 0;
  for (int64_t i = 0; i < N; ++i) {
    S* row = dS + i * N;
    const S* s1 = S1 + i * N;
    const S* s0 = S0 + i * N;
    const S dyi = S(dy[i]), vi = S(v[i]);
    S sa = 0, dvi = 0, dsa = 0;
#pragma omp simd reduction(+ : sa)
    for (int64_t j = 0; j < N; ++j) sa += S(a[j]) * s0[j];
#pragma omp simd reduction(+ : dvi, dsa)
    for (int64_t j = 0; j < N; ++j) {
      row[j] += dyi * S(r[j]);  // y_i = sum_j S_ij r_j, read after the update
      dr[j] += s1[j] * dyi;
      dvi += row[j] * S(k[j]);
      dk[j] += row[j] * vi;
      db[j] += row[j] * sa;
      dsa += row[j] * S(b[j]);
      dw[j] += row[j] * s0[j];
    }
    dv[i] = dvi;
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) {
      da[j] += dsa * s0[j];
      row[j] = row[j] * S(w[j]) + dsa * S(a[j]);
    }
  }
}

}  // namespace

void wkv7_forward_checkpointed(const Wkv7Args& in, Tensor& state, Tensor& y, Tensor& checkpoints) {
  const Dims d = check_seq(in, state);
  const int64_t chunks = (d.T + kWkv7Checkpoint - 1) / kWkv7Checkpoint;
  check_shape(checkpoints, {chunks, d.H, d.N, d.N}, "wkv7_forward_checkpointed: checkpoints");
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t t0 = c * kWkv7Checkpoint, n = std::min(kWkv7Checkpoint, d.T - t0);
    checkpoints.row(c).copy_from(state);
    Tensor ys = y.rows(t0, n);
    wkv7({in.r.rows(t0, n), in.w.rows(t0, n), in.k.rows(t0, n), in.v.rows(t0, n), in.a.rows(t0, n), in.b.rows(t0, n)},
         state, ys);
  }
}

void wkv7_backward(const Wkv7Args& in, const Tensor& checkpoints, const Tensor& dy, const Wkv7Grads& g,
                   Tensor& d_state) {
  const Dims d = check_seq(in, d_state);
  check_grads(g, in.r);
  require_same_shape(in.r, dy, "wkv7_backward");
  const int64_t L = kWkv7Checkpoint, chunks = (d.T + L - 1) / L, N = d.N, NN = N * N, C = d.C;
  check_shape(checkpoints, {chunks, d.H, N, N}, "wkv7_backward: checkpoints");
  const float *r = in.r.data<float>(), *w = in.w.data<float>(), *k = in.k.data<float>();
  const float *v = in.v.data<float>(), *a = in.a.data<float>(), *b = in.b.data<float>(), *pdy = dy.data<float>();
  const float* ck = checkpoints.data<float>();
  float *gr = g.r.data<float>(), *gw = g.w.data<float>(), *gk = g.k.data<float>();
  float *gv = g.v.data<float>(), *ga = g.a.data<float>(), *gb = g.b.data<float>();
  float* dS_all = d_state.data<float>();
#pragma omp parallel for schedule(dynamic, 1) if (d.H > 1)
  for (int64_t h = 0; h < d.H; ++h) {
    std::vector<float> states(static_cast<size_t>((L + 1) * NN)), acc(static_cast<size_t>(6 * N));
    float* dS = dS_all + h * NN;
    float *dr = acc.data(), *dw = dr + N, *dk = dw + N, *dv = dk + N, *da = dv + N, *db = da + N;
    for (int64_t c = chunks - 1; c >= 0; --c) {
      const int64_t t0 = c * L, n = std::min(L, d.T - t0);
      // The states after each token of the stretch, from its checkpoint.
      std::copy(ck + (c * d.H + h) * NN, ck + (c * d.H + h + 1) * NN, states.begin());
      for (int64_t t = 0; t < n; ++t) {
        float* St = states.data() + (t + 1) * NN;
        std::copy(St - NN, St, St);
        const int64_t o = (t0 + t) * C + h * N;
        kern::wkv7_step(N, St, w + o, k + o, v + o, a + o, b + o);
      }
      for (int64_t t = n - 1; t >= 0; --t) {
        const int64_t o = (t0 + t) * C + h * N;
        step_backward(N, states.data() + t * NN, states.data() + (t + 1) * NN, r + o, w + o, k + o, v + o, a + o,
                      b + o, pdy + o, dS, dr, dw, dk, dv, da, db);
        for (int64_t j = 0; j < N; ++j) {
          gr[o + j] += dr[j], gw[o + j] += dw[j], gk[o + j] += dk[j];
          gv[o + j] += dv[j], ga[o + j] += da[j], gb[o + j] += db[j];
        }
      }
    }
  }
}

namespace ref {
void wkv7_backward(const Wkv7Args& in, const Tensor& initial_state, const Tensor& dy, const Wkv7Grads& g,
                   Tensor& d_state) {
  const Dims d = check_seq(in, initial_state);
  check_grads(g, in.r);
  require_same_shape(initial_state, d_state, "wkv7_backward");
  const int64_t N = d.N, NN = N * N, C = d.C;
  const float *r = in.r.data<float>(), *w = in.w.data<float>(), *k = in.k.data<float>();
  const float *v = in.v.data<float>(), *a = in.a.data<float>(), *b = in.b.data<float>(), *pdy = dy.data<float>();
  float *gr = g.r.data<float>(), *gw = g.w.data<float>(), *gk = g.k.data<float>();
  float *gv = g.v.data<float>(), *ga = g.a.data<float>(), *gb = g.b.data<float>();
  for (int64_t h = 0; h < d.H; ++h) {
    std::vector<double> states(static_cast<size_t>((d.T + 1) * NN)), dS(static_cast<size_t>(NN)), acc(static_cast<size_t>(6 * N));
    const float* s0 = initial_state.data<float>() + h * NN;
    std::copy(s0, s0 + NN, states.begin());
    for (int64_t t = 0; t < d.T; ++t) {
      double* St = states.data() + (t + 1) * NN;
      std::copy(St - NN, St, St);
      const int64_t o = t * C + h * N;
      kern::wkv7_step(N, St, w + o, k + o, v + o, a + o, b + o);
    }
    float* dSo = d_state.data<float>() + h * NN;
    std::copy(dSo, dSo + NN, dS.begin());
    double *dr = acc.data(), *dw = dr + N, *dk = dw + N, *dv = dk + N, *da = dv + N, *db = da + N;
    for (int64_t t = d.T - 1; t >= 0; --t) {
      const int64_t o = t * C + h * N;
      step_backward(N, states.data() + t * NN, states.data() + (t + 1) * NN, r + o, w + o, k + o, v + o, a + o, b + o,
                    pdy + o, dS.data(), dr, dw, dk, dv, da, db);
      for (int64_t j = 0; j < N; ++j) {
        gr[o + j] = float(gr[o + j] + dr[j]), gw[o + j] = float(gw[o + j] + dw[j]), gk[o + j] = float(gk[o + j] + dk[j]);
        gv[o + j] = float(gv[o + j] + dv[j]), ga[o + j] = float(ga[o + j] + da[j]), gb[o + j] = float(gb[o + j] + db[j]);
      }
    }
    for (int64_t i = 0; i < NN; ++i) dSo[i] = float(dS[size_t(i)]);
  }
}
}  // namespace ref

void wkv7_prepare_backward(const Wkv7PrepareBackward& p, int64_t N) {
  const bool goose = p.keys == Wkv7Keys::Goose;
  const int64_t C = p.k.dim(-1), R = rows_of(p.k);
  GANDER_CHECK(N > 0 && C % N == 0, "wkv7_prepare_backward: width ", C, " is not a multiple of the head size ", N);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&p.d, &p.a, &p.dk_out, &p.dw, &p.da_in, &p.db_in, &p.dk, &p.dd, &p.da})
    require_same_shape(p.k, *t, "wkv7_prepare_backward");
  GANDER_CHECK(!goose || (p.k_k && p.k_a), "wkv7_prepare_backward: the Goose form needs k_k and k_a");
  const float *k = p.k.data<float>(), *dpre = p.d.data<float>(), *a = p.a.data<float>();
  const float *kk = goose ? p.k_k->data<float>() : nullptr, *ka = goose ? p.k_a->data<float>() : nullptr;
  const float *gkt = p.dk_out.data<float>(), *gw = p.dw.data<float>(), *gain = p.da_in.data<float>(),
              *gbin = p.db_in.data<float>();
  float *dk = p.dk.data<float>(), *dd = p.dd.data<float>(), *da = p.da.data<float>();
  std::vector<double> sum_kk(goose ? size_t(C) : 0, 0.0), sum_ka(goose ? size_t(C) : 0, 0.0);
  std::vector<double> u(static_cast<size_t>(N)), gu(static_cast<size_t>(N)), gkap(static_cast<size_t>(N));
  // (Rows one after the other: the per-channel sums need a fixed order, and this op is small
  // beside the products.)
  for (int64_t row = 0; row < R; ++row)
    for (int64_t h = 0; h < C; h += N) {
      const int64_t o = row * C + h;
      for (int64_t i = 0; i < N; ++i) u[size_t(i)] = goose ? double(k[o + i] * kk[h + i]) : double(k[o + i]);
      const double den = kern::l2_scale(u.data(), N, kKeyNormEps, goose);
      for (int64_t i = 0; i < N; ++i) {
        const int64_t j = o + i;
        const double kap = u[size_t(i)] / den;
        gkap[size_t(i)] = -double(gain[j]) + double(gbin[j]) * a[j];
        da[j] = float(da[j] + double(gbin[j]) * kap);
        gu[size_t(i)] = 0;
      }
      kern::l2_normalize_backward(u.data(), N, kKeyNormEps, goose, gkap.data(), gu.data());
      for (int64_t i = 0; i < N; ++i) {
        const int64_t j = o + i, c = h + i;
        const double sig = 1.0 / (1.0 + std::exp(-double(dpre[j])));
        const double wv = std::exp(-kDecayScale * sig);
        double gwj = gw[j], gk = 0;
        if (goose) {
          gk += gu[size_t(i)] * kk[c];
          sum_kk[size_t(c)] += gu[size_t(i)] * k[j];
          const double f = 1.0 + (double(a[j]) - 1.0) * ka[c];  // k~ = k * f
          gk += double(gkt[j]) * f;
          da[j] = float(da[j] + double(gkt[j]) * k[j] * ka[c]);
          sum_ka[size_t(c)] += double(gkt[j]) * k[j] * (double(a[j]) - 1.0);
        } else {
          gk += gu[size_t(i)];
          gk += double(gkt[j]) * (1.0 - wv + a[j]);  // k~ = k * (1 - w + a)
          gwj -= double(gkt[j]) * k[j];
          da[j] = float(da[j] + double(gkt[j]) * k[j]);
        }
        dk[j] = float(dk[j] + gk);
        dd[j] = float(dd[j] + gwj * wv * -kDecayScale * sig * (1.0 - sig));
      }
    }
  if (goose) {
    for (auto [sum, out] : {std::pair{&sum_kk, p.dk_k}, {&sum_ka, p.dk_a}}) {
      if (!out) continue;
      float* o = out->data<float>();
      for (int64_t c = 0; c < C; ++c) o[c] = float(o[c] + (*sum)[size_t(c)]);
    }
  }
}

void wkv7_output_backward(const Wkv7Output& o, int64_t N, const Tensor& dout, const Wkv7OutputGrads& g) {
  const int64_t C = o.y.dim(-1), R = rows_of(o.y);
  GANDER_CHECK(N > 0 && C % N == 0, "wkv7_output_backward: width ", C, " is not a multiple of the head size ", N);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&o.r, &o.k, &o.v, &o.g, &dout, &g.y, &g.r, &g.k, &g.v, &g.g})
    require_same_shape(o.y, *t, "wkv7_output_backward");
  const float *y = o.y.data<float>(), *r = o.r.data<float>(), *k = o.k.data<float>(), *v = o.v.data<float>();
  const float *gt = o.g.data<float>(), *pd = dout.data<float>();
  const float *lw = o.ln_w ? o.ln_w->data<float>() : nullptr, *lb = o.ln_b ? o.ln_b->data<float>() : nullptr;
  const float* rk = o.r_k ? o.r_k->data<float>() : nullptr;
  float *dy = g.y.data<float>(), *dr = g.r.data<float>(), *dk = g.k.data<float>(), *dv = g.v.data<float>(),
        *dg = g.g.data<float>();
  std::vector<double> s_lw(size_t(C), 0.0), s_lb(size_t(C), 0.0), s_rk(size_t(C), 0.0);
  std::vector<double> z(static_cast<size_t>(N)), dz(static_cast<size_t>(N)), dyh(static_cast<size_t>(N)), dlw(static_cast<size_t>(N)), dlb(static_cast<size_t>(N));
  for (int64_t row = 0; row < R; ++row)
    for (int64_t h = 0; h < C; h += N) {
      const int64_t b = row * C + h;
      double bonus = 0;
      if (rk)
        for (int64_t i = 0; i < N; ++i) bonus += double(r[b + i]) * k[b + i] * rk[h + i];
      // z = norm(y) (the GroupNorm of the head, or y * scale), out = (z + bonus * v) * g
      {
        std::vector<double> yh(y + b, y + b + N);
        if (lw) {
          std::vector<double> w(lw + h, lw + h + N), bb(lb + h, lb + h + N);
          kern::norm_row<double>(yh.data(), w.data(), bb.data(), o.eps, N, true, z.data());
        } else {
          for (int64_t i = 0; i < N; ++i) z[size_t(i)] = yh[size_t(i)] * o.scale;
        }
        double dbonus = 0;
        for (int64_t i = 0; i < N; ++i) {
          const double gi = pd[b + i];
          dg[b + i] = float(dg[b + i] + gi * (z[size_t(i)] + bonus * v[b + i]));
          dz[size_t(i)] = gi * gt[b + i];
          dv[b + i] = float(dv[b + i] + dz[size_t(i)] * bonus);
          dbonus += dz[size_t(i)] * v[b + i];
        }
        if (rk)
          for (int64_t i = 0; i < N; ++i) {
            dr[b + i] = float(dr[b + i] + dbonus * k[b + i] * rk[h + i]);
            dk[b + i] = float(dk[b + i] + dbonus * r[b + i] * rk[h + i]);
            s_rk[size_t(h + i)] += dbonus * r[b + i] * k[b + i];
          }
        if (lw) {
          std::vector<double> w(lw + h, lw + h + N);
          std::fill(dyh.begin(), dyh.end(), 0.0);
          std::fill(dlw.begin(), dlw.end(), 0.0);
          std::fill(dlb.begin(), dlb.end(), 0.0);
          kern::norm_row_backward<double>(yh.data(), w.data(), o.eps, N, true, dz.data(), dyh.data(), dlw.data(),
                                          dlb.data());
          for (int64_t i = 0; i < N; ++i) {
            dy[b + i] = float(dy[b + i] + dyh[size_t(i)]);
            s_lw[size_t(h + i)] += dlw[size_t(i)];
            s_lb[size_t(h + i)] += dlb[size_t(i)];
          }
        } else {
          for (int64_t i = 0; i < N; ++i) dy[b + i] = float(dy[b + i] + dz[size_t(i)] * o.scale);
        }
      }
    }
  for (auto [sum, out] : {std::pair{&s_lw, g.ln_w}, {&s_lb, g.ln_b}, {&s_rk, g.r_k}}) {
    if (!out) continue;
    float* p = out->data<float>();
    for (int64_t c = 0; c < C; ++c) p[c] = float(p[c] + (*sum)[size_t(c)]);
  }
}

}  // namespace gander::ops
