// Grouped heads repeated to full width (GQA): a RADLADS student computes its keys and values at
// the teacher's KV-head width and repeats each KV head for the query heads it serves.
//   out[t, h * N + i] = x[t, (h / group) * N + i]   for h < H = Hkv * group, i < N
// x: [T, Hkv * N], out: [T, H * N], f32.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace gander::ops {
void repeat_heads(const Tensor& x, int64_t group, int64_t head_size, Tensor& out);
namespace ref {
void repeat_heads(const Tensor& x, int64_t group, int64_t head_size, Tensor& out);
}
namespace fast {
void repeat_heads(const Tensor& x, int64_t group, int64_t head_size, Tensor& out);
}
}  // namespace gander::ops
