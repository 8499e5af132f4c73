#include "ops/repeat_heads.h"

#include <algorithm>

#include "ops/checks.h"
#include "ops/impl.h"

namespace gander::ops {

namespace {
void check(const Tensor& x, int64_t group, int64_t N, const Tensor& out) {
  require_f32(x, "repeat_heads", "x");
  require_f32(out, "repeat_heads", "out");
  GANDER_CHECK(group >= 1 && N >= 1 && x.dim(-1) % N == 0, "repeat_heads: width ", x.dim(-1),
               " is not a whole number of heads of ", N);
  GANDER_CHECK(rows_of(x) == rows_of(out) && out.dim(-1) == x.dim(-1) * group, "repeat_heads: ", x.describe(),
               " repeated ", group, "x does not give ", out.describe());
}
}  // namespace

namespace ref {
void repeat_heads(const Tensor& x, int64_t group, int64_t N, Tensor& out) {
  check(x, group, N, out);
  const int64_t R = rows_of(x), KV = x.dim(-1), W = out.dim(-1);
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for (int64_t t = 0; t < R; ++t)
    for (int64_t h = 0; h < W / N; ++h)
      for (int64_t i = 0; i < N; ++i) po[t * W + h * N + i] = px[t * KV + (h / group) * N + i];
}
}  // namespace ref

namespace fast {
void repeat_heads(const Tensor& x, int64_t group, int64_t N, Tensor& out) {
  check(x, group, N, out);
  const int64_t R = rows_of(x), KV = x.dim(-1), W = out.dim(-1);
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (R * W > 65536)
  for (int64_t t = 0; t < R; ++t)
    for (int64_t kh = 0; kh < KV / N; ++kh)
      for (int64_t g = 0; g < group; ++g)
        std::copy(px + t * KV + kh * N, px + t * KV + (kh + 1) * N, po + t * W + (kh * group + g) * N);
}
}  // namespace fast

void repeat_heads(const Tensor& x, int64_t group, int64_t N, Tensor& out) {
  impl() == Impl::Reference ? ref::repeat_heads(x, group, N, out) : fast::repeat_heads(x, group, N, out);
}

}  // namespace gander::ops
