#include "ops/elementwise.h"

#include <algorithm>

#include "core/cpu.h"
#include "ops/checks.h"
#include "ops/impl.h"

namespace gander::ops {

const char* act_name(Act a) {
  switch (a) {
    case Act::Tanh: return "tanh";
    case Act::Sigmoid: return "sigmoid";
    case Act::Exp: return "exp";
    case Act::Softplus: return "softplus";
    case Act::ReluSquared: return "relu_squared";
    case Act::Silu: return "silu";
  }
  return "?";
}

namespace {
void check_activation(const Tensor& x, const Tensor& out) {
  require_f32(x, "activation", "x");
  require_f32(out, "activation", "out");
  require_same_shape(x, out, "activation");
}
void check_lerp(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& out) {
  require_f32(a, "lerp", "a");
  require_f32(b, "lerp", "b");
  require_f32(mix, "lerp", "mix");
  require_f32(out, "lerp", "out");
  require_same_shape(a, b, "lerp");
  require_same_shape(a, out, "lerp");
  GANDER_CHECK(mix.numel() == a.dim(-1) || mix.numel() == a.numel(), "lerp: mix ", mix.describe(),
               " is neither one row nor the shape of ", a.describe());
}
}  // namespace

namespace ref {
void activation(Act a, const Tensor& x, Tensor& out) {
  check_activation(x, out);
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) po[i] = act_scalar(a, px[i]);
}
void lerp(const Tensor& a, const Tensor& b, const Tensor& mix, Tensor& out) {
  check_lerp(a, b, mix, out);
  const int64_t C = a.dim(-1), R = rows_of(a);
  const float *pa = a.data<float>(), *pb = b.data<float>(), *pm = mix.data<float>();
  float* po = out.data<float>();
  const bool per_row = mix.numel() == C;
  for (int64_t r = 0; r < R; ++r) {
    const float* m = per_row ? pm : pm + r * C;
    for (int64_t c = 0; c < C; ++c) po[r * C + c] = pa[r * C + c] + (pb[r * C + c] - pa[r * C + c]) * m[c];
  }
}
}  // namespace ref

namespace fast {
// AVX-512 with glibc's vector libm (libmvec) where the CPU has it, else the scalar formulas;
// threads split the range in blocks of 4096 elements.
void activation(Act a, const Tensor& x, Tensor& out) {
  check_activation(x, out);
  const float* px = x.data<float>();
  float* po = out.data<float>();
  const int64_t n = x.numel(), block = 4096, blocks = (n + block - 1) / block;
  const bool simd = cpu_has_avx512();
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t i0 = b * block, i1 = std::min(n, i0 + block);
    if (simd) {
      detail::activation_avx512(a, px + i0, po + i0, i1 - i0);
    } else {
      for (int64_t i = i0; i < i1; ++i) po[i] = act_scalar(a, px[i]);
    }
  }
}
void lerp(const Tensor& a, const Tensor& b, const Tensor& mix, Tensor& out) {
  check_lerp(a, b, mix, out);
  const int64_t C = a.dim(-1), R = rows_of(a);
  const float *pa = a.data<float>(), *pb = b.data<float>(), *pm = mix.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (R * C > 65536)
  for (int64_t r = 0; r < R; ++r) {
    const float* ra = pa + r * C;
    const float* rb = pb + r * C;
    float* ro = po + r * C;
    const float* m = mix.numel() == C ? pm : pm + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) ro[c] = ra[c] + (rb[c] - ra[c]) * m[c];
  }
}
}  // namespace fast

void activation(Act a, const Tensor& x, Tensor& out) {
  impl() == Impl::Reference ? ref::activation(a, x, out) : fast::activation(a, x, out);
}
void lerp(const Tensor& a, const Tensor& b, const Tensor& mix, Tensor& out) {
  impl() == Impl::Reference ? ref::lerp(a, b, mix, out) : fast::lerp(a, b, mix, out);
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  require_f32(a, "mul", "a");
  require_same_shape(a, b, "mul");
  require_same_shape(a, out, "mul");
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* po = out.data<float>();
  const int64_t n = a.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) po[i] = pa[i] * pb[i];
}

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  require_f32(a, "add", "a");
  require_same_shape(a, b, "add");
  require_same_shape(a, out, "add");
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* po = out.data<float>();
  const int64_t n = a.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
}

}  // namespace gander::ops
