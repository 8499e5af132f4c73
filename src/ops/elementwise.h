// Element-wise ops: activations and lerp (token shift). All f32.
// Their backward: ops/backward.h.
#pragma once
#include "core/tensor.h"

namespace gander::ops {

enum class Act { Tanh, Sigmoid, Exp, Softplus, ReluSquared, Silu };
const char* act_name(Act a);

// out = act(x); out may alias x.
void activation(Act a, const Tensor& x, Tensor& out);
// out[t, c] = a[t, c] + (b[t, c] - a[t, c]) * mix[c]   (mix broadcast over rows, or of a's shape:
// element-wise; out may alias a or b)
void lerp(const Tensor& a, const Tensor& b, const Tensor& mix, Tensor& out);
// out = a * b element-wise (same shapes); out may alias either.
void mul(const Tensor& a, const Tensor& b, Tensor& out);
// out = a + b element-wise (same shapes); out may alias either.
void add(const Tensor& a, const Tensor& b, Tensor& out);

namespace ref {
void activation(Act a, const Tensor& x, Tensor& out);
void lerp(const Tensor& a, const Tensor& b, const Tensor& mix, Tensor& out);
}  // namespace ref
namespace fast {
void activation(Act a, const Tensor& x, Tensor& out);
void lerp(const Tensor& a, const Tensor& b, const Tensor& mix, Tensor& out);
}  // namespace fast

namespace detail {
void activation_avx512(Act a, const float* x, float* y, int64_t n);
}

// Scalar definitions shared by both implementations (the reference is these in a plain loop).
inline float act_scalar(Act a, float x);

}  // namespace gander::ops

#include <cmath>
namespace gander::ops {
inline float act_scalar(Act a, float x) {
  switch (a) {
    case Act::Tanh: return std::tanh(x);
    case Act::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Act::Exp: return std::exp(x);
    // log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)
    case Act::Softplus: return std::fmax(x, 0.0f) + std::log1p(std::exp(-std::fabs(x)));
    case Act::ReluSquared: {
      float r = x > 0 ? x : 0.0f;
      return r * r;
    }
    case Act::Silu: return x / (1.0f + std::exp(-x));
  }
  return x;
}
}  // namespace gander::ops
