// Rotary position embedding, "rotate-half" form (HF Llama/Qwen2): for a head vector x of size D
// and position p, with inv_freq[i] = theta^(-2i/D), i < D/2, angle a = p * inv_freq[i]:
//   y[i]       = x[i] * cos(a) - x[i + D/2] * sin(a)
//   y[i + D/2] = x[i + D/2] * cos(a) + x[i] * sin(a)
// x is [T, H, D]; positions[t] is token t's position. out may alias x.
#pragma once
#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace gander::ops {
void rope(const Tensor& x, std::span<const int64_t> positions, double theta, Tensor& out);
namespace ref {
void rope(const Tensor& x, std::span<const int64_t> positions, double theta, Tensor& out);
}
namespace fast {
void rope(const Tensor& x, std::span<const int64_t> positions, double theta, Tensor& out);
}
}  // namespace gander::ops
