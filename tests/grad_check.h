// Finite-difference checks of backward ops in double precision. A problem is a scalar function of
// several inputs, evaluated in double (the op's forward from ops/grad_kernels.h, contracted with
// a random probe of its outputs); an analytic gradient (the op's backward given that probe) is
// compared with central differences at sampled elements of every input.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace gander::test {

using Values = std::vector<std::vector<double>>;

struct FdResult {
  double worst = 0;   // max over inputs of max |analytic - fd| / max(|analytic| of that input, floor)
  std::string where;  // which input and element
};

// `floor`: the gradient scale below which differences count absolutely (an input whose gradient
// is all zeros, such as an unused one).
inline FdResult fd_check(const Values& x, const std::function<double(const Values&)>& loss, const Values& analytic,
                         Rng& rng, int samples_per_input = 12, double floor = 1e-6) {
  FdResult r;
  Values p = x;
  for (size_t i = 0; i < x.size(); ++i) {
    double scale = floor;
    for (double g : analytic[i]) scale = std::max(scale, std::fabs(g));
    const size_t n = x[i].size();
    for (int s = 0; s < samples_per_input && n; ++s) {
      const size_t e = s < 2 ? (s == 0 ? 0 : n - 1) : size_t(rng.next_u64() % n);
      const double h = 1e-6 * std::max(1.0, std::fabs(x[i][e]));
      p[i][e] = x[i][e] + h;
      const double up = loss(p);
      p[i][e] = x[i][e] - h;
      const double down = loss(p);
      p[i][e] = x[i][e];
      const double fd = (up - down) / (2 * h), err = std::fabs(fd - analytic[i][e]) / scale;
      if (err > r.worst) {
        r.worst = err;
        r.where = "input " + std::to_string(i) + " element " + std::to_string(e) + ": analytic " +
                  std::to_string(analytic[i][e]) + " vs differences " + std::to_string(fd);
      }
    }
  }
  return r;
}

inline std::vector<double> values_of(const Tensor& t) {
  const auto v = t.to_f32_vector();
  return {v.begin(), v.end()};
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// max |a - b| / max |b| (b the reference).
inline double rel_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_f32_vector(), y = b.to_f32_vector();
  double d = 0, m = 1e-30;
  for (size_t i = 0; i < x.size(); ++i) {
    d = std::max(d, std::fabs(double(x[i]) - y[i]));
    m = std::max(m, std::fabs(double(y[i])));
  }
  return x.size() == y.size() ? d / m : INFINITY;
}

// Helpers of the gradient tests.
inline constexpr double kFdTol = 2e-5;    // f32-rounded analytic gradients against double differences
inline constexpr double kFastTol = 2e-5;  // f32 fast against the double reference, relative to its max

inline Tensor tensor_of(const std::vector<double>& v, Shape shape) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from_f32(f, std::move(shape));
}
inline Tensor zeros(Shape s) { return Tensor::zeros(DType::F32, std::move(s)); }
inline Tensor random_tensor_like(Rng& rng, Shape s) {
  std::vector<double> v(static_cast<size_t>(shape_numel(s)));
  for (double& x : v) x = rng.normal();
  return tensor_of(v, std::move(s));
}
inline std::vector<double> random_values(Rng& rng, int64_t n, double scale = 1.0, double offset = 0.0) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = double(float(offset + scale * rng.normal()));  // f32-representable
  return v;
}
inline std::vector<double> uniform_values(Rng& rng, int64_t n, double lo, double hi) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = double(float(lo + (hi - lo) * rng.uniform()));
  return v;
}

}  // namespace gander::test
