#include "core/random_fill.h"

#include <algorithm>
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

}  // namespace gander
