#include "core/random_fill.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gander {

Tensor random_normal(Shape shape, float std, DType dtype, uint64_t seed) {
  Tensor t = Tensor::empty(dtype, std::move(shape));
  auto* p = static_cast<std::byte*>(t.mutable_raw());
  const int64_t n = t.numel(), chunk = int64_t(1) << 16;
#pragma omp parallel for schedule(static)
  for (int64_t c0 = 0; c0 < n; c0 += chunk) {
    Rng local(seed ^ uint64_t(c0));
    thread_local std::vector<float> buf;
    const int64_t m = std::min(n, c0 + chunk) - c0;
    buf.resize(size_t(m));
    for (int64_t i = 0; i < m; ++i) buf[size_t(i)] = float(local.normal()) * std;
    convert_from_f32(dtype, buf.data(), p + size_t(c0) * dtype_size(dtype), size_t(m));
  }
  return t;
}

Tensor random_orthogonal(Shape shape, float gain, uint64_t seed) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  const int64_t rows = t.ndim() ? t.dim(0) : 1, cols = rows ? t.numel() / std::max<int64_t>(rows, 1) : 0;
  const int64_t n = std::min(rows, cols), m = std::max(rows, cols);  // n orthonormal vectors of length m
  std::vector<double> q(size_t(n * m));
  std::vector<double> dots(static_cast<size_t>(n));
  Rng rng(seed);
  for (double& x : q) x = rng.normal();
  // Classical Gram-Schmidt applied twice per vector ("twice is enough": orthogonal to rounding).
  for (int64_t j = 0; j < n; ++j) {
    double* v = q.data() + j * m;
    for (int pass = 0; pass < 2; ++pass) {
#pragma omp parallel for schedule(static) if (j * m > 65536)
      for (int64_t i = 0; i < j; ++i) {
        const double* u = q.data() + i * m;
        double d = 0;
        for (int64_t k = 0; k < m; ++k) d += u[k] * v[k];
        dots[size_t(i)] = d;
      }
      const int64_t block = 1024;  // each element subtracts in the order i = 0..j-1, on any thread
#pragma omp parallel for schedule(static) if (j * m > 65536)
      for (int64_t k0 = 0; k0 < m; k0 += block)
        for (int64_t i = 0; i < j; ++i) {
          const double* u = q.data() + i * m;
          const double d = dots[size_t(i)];
          for (int64_t k = k0; k < std::min(m, k0 + block); ++k) v[k] -= d * u[k];
        }
    }
    double norm = 0;
    for (int64_t k = 0; k < m; ++k) norm += v[k] * v[k];
    norm = std::sqrt(norm);
    for (int64_t k = 0; k < m; ++k) v[k] /= norm;
  }
  float* out = t.data<float>();
  const bool tall = rows >= cols;  // tall: columns orthonormal (vector j is column j), else rows
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = float(gain * (tall ? q[size_t(c * m + r)] : q[size_t(r * m + c)]));
  return t;
}

}  // namespace gander
