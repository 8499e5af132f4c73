// The scalar definitions of the training ops, forward and backward, over one row (or one head)
// in any floating type S. The reference backward ops run them in double; the op-test registry
// also runs the forwards in double to check each backward against central finite differences;
// the fast ops run them in f32 over rows in parallel (ops/backward.cpp, ops/wkv7_backward.cpp).
// Backward functions add into their gradient outputs.
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>

#include "ops/elementwise.h"

namespace gander::ops::kern {

// d act(x) / dx
template <class S> S act_derivative(Act a, S x) {
  switch (a) {
    case Act::Tanh: {
      const S t = std::tanh(x);
      return S(1) - t * t;
    }
    case Act::Sigmoid: {
      const S s = S(1) / (S(1) + std::exp(-x));
      return s * (S(1) - s);
    }
    case Act::Exp: return std::exp(x);
    case Act::Softplus: return S(1) / (S(1) + std::exp(-x));
    case Act::ReluSquared: return x > 0 ? S(2) * x : S(0);
    case Act::Silu: {
      const S s = S(1) / (S(1) + std::exp(-x));
      return s * (S(1) + x * (S(1) - s));
    }
  }
  return S(1);
}

template <class S> S act(Act a, S x) {
  switch (a) {
    case Act::Tanh: return std::tanh(x);
    case Act::Sigmoid: return S(1) / (S(1) + std::exp(-x));
    case Act::Exp: return std::exp(x);
    case Act::Softplus: return std::fmax(x, S(0)) + std::log1p(std::exp(-std::fabs(x)));
    case Act::ReluSquared: return x > 0 ? x * x : S(0);
    case Act::Silu: return x / (S(1) + std::exp(-x));
  }
  return x;
}

// The mean (0 for RMS) and 1 / sqrt(variance + eps) of n values.
template <class S> std::pair<double, double> norm_stats(const S* x, S eps, int64_t n, bool centered) {
  double mean = 0, var = 0;
  if (centered) {
    for (int64_t i = 0; i < n; ++i) mean += double(x[i]);
    mean /= double(n);
  }
  for (int64_t i = 0; i < n; ++i) var += (double(x[i]) - mean) * (double(x[i]) - mean);
  return {mean, 1.0 / std::sqrt(var / double(n) + double(eps))};
}

// Normalisation of n values: (x - mean) / sqrt(var + eps) (centered) or x / sqrt(mean(x^2) + eps)
// (RMS), times w (+ b); w null: no affine.
template <class S> void norm_row(const S* x, const S* w, const S* b, S eps, int64_t n, bool centered, S* y) {
  const auto [mean, inv] = norm_stats(x, eps, n, centered);
  for (int64_t i = 0; i < n; ++i) {
    const double xh = (double(x[i]) - mean) * inv;
    y[i] = w ? S(xh * double(w[i]) + (b ? double(b[i]) : 0.0)) : S(xh);
  }
}

// Its backward: dx += d(norm)/dx^T dy; dw += dy * x_hat, db += dy (when given).
template <class S>
void norm_row_backward(const S* x, const S* w, S eps, int64_t n, bool centered, const S* dy, S* dx, S* dw, S* db) {
  const auto [mean, inv] = norm_stats(x, eps, n, centered);
  // g = dy * w (the gradient at x_hat); dx = inv * (g - mean(g) - x_hat * mean(g * x_hat)),
  // without the mean(g) term for RMS.
  double sg = 0, sgx = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double xh = (double(x[i]) - mean) * inv, g = double(dy[i]) * (w ? double(w[i]) : 1.0);
    sg += g;
    sgx += g * xh;
    if (dw) dw[i] = S(double(dw[i]) + double(dy[i]) * xh);
    if (db) db[i] = S(double(db[i]) + double(dy[i]));
  }
  sg /= double(n);
  sgx /= double(n);
  for (int64_t i = 0; i < n; ++i) {
    const double xh = (double(x[i]) - mean) * inv, g = double(dy[i]) * (w ? double(w[i]) : 1.0);
    dx[i] = S(double(dx[i]) + inv * (g - (centered ? sg : 0.0) - xh * sgx));
  }
}

// y = u / max(|u|, eps) (clamped, F.normalize) or u / (|u| + eps).
template <class S> double l2_scale(const S* u, int64_t n, S eps, bool clamped, double* norm_out = nullptr) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(u[i]) * double(u[i]);
  const double norm = std::sqrt(ss);
  if (norm_out) *norm_out = norm;
  return clamped ? std::fmax(norm, double(eps)) : norm + double(eps);
}
// du += d(u / scale(u))/du^T dy.
template <class S> void l2_normalize_backward(const S* u, int64_t n, S eps, bool clamped, const S* dy, S* du) {
  double norm = 0;
  const double den = l2_scale(u, n, eps, clamped, &norm);
  // d/du_j (u_i / den) = delta_ij / den - u_i u_j / (den^2 norm) where den follows the norm.
  const bool follows = !clamped || norm >= double(eps);
  double udy = 0;
  for (int64_t i = 0; i < n; ++i) udy += double(u[i]) * double(dy[i]);
  const double c = follows && norm > 0 ? udy / (den * den * norm) : 0.0;
  for (int64_t j = 0; j < n; ++j) du[j] = S(double(du[j]) + double(dy[j]) / den - double(u[j]) * c);
}

// One token of the WKV7 recurrence on one head's state St [N, N] (ops/wkv7.h's convention):
// St <- St diag(w) + (St a) b^T + v k^T.
template <class S, class In>
void wkv7_step(int64_t N, S* St, const In* w, const In* k, const In* v, const In* a, const In* b) {
  for (int64_t i = 0; i < N; ++i) {
    S* row = St + i * N;
    S sa = 0;
#pragma omp simd reduction(+ : sa)
    for (int64_t j = 0; j < N; ++j) sa += S(a[j]) * row[j];
    const S vi = S(v[i]);
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) row[j] = row[j] * S(w[j]) + vi * S(k[j]) + sa * S(b[j]);
  }
}

// wkv7_prepare of one head (N channels), as ops/wkv7.h defines it; kk, ka null: the balanced form.
template <class S>
void wkv7_prepare_head(int64_t N, const S* k, const S* d, const S* a, const S* kk, const S* ka, S* kt, S* w, S* ain,
                       S* bin) {
  const bool goose = kk != nullptr;
  double ss = 0;
  for (int64_t i = 0; i < N; ++i) {
    const double u = goose ? double(k[i]) * kk[i] : double(k[i]);
    ss += u * u;
  }
  const double den = goose ? std::fmax(std::sqrt(ss), 1e-12) : std::sqrt(ss) + 1e-12;
  for (int64_t i = 0; i < N; ++i) {
    const double kap = (goose ? double(k[i]) * kk[i] : double(k[i])) / den;
    ain[i] = S(-kap);
    bin[i] = S(kap * a[i]);
    const double wi = std::exp(-std::exp(-0.5) / (1.0 + std::exp(-double(d[i]))));
    w[i] = S(wi);
    kt[i] = goose ? S(double(k[i]) * (1.0 + (double(a[i]) - 1.0) * ka[i])) : S(double(k[i]) * (1.0 - wi + a[i]));
  }
}

// wkv7_output of one head: (norm(y) + (r . (r_k * k)) v) * g with norm the GroupNorm (lw, lb) or
// y * scale (lw null), no bonus without rk.
template <class S>
void wkv7_output_head(int64_t N, const S* y, const S* r, const S* k, const S* v, const S* g, const S* lw, const S* lb,
                      const S* rk, S eps, S scale, S* out) {
  double bonus = 0;
  if (rk)
    for (int64_t i = 0; i < N; ++i) bonus += double(r[i]) * k[i] * rk[i];
  if (lw) norm_row(y, lw, lb, eps, N, true, out);
  else
    for (int64_t i = 0; i < N; ++i) out[i] = S(double(y[i]) * scale);
  for (int64_t i = 0; i < N; ++i) out[i] = S((double(out[i]) + bonus * v[i]) * g[i]);
}

}  // namespace gander::ops::kern
