// Row-wise softmax over the last dimension, f32, max-subtracted. out may alias x.
#pragma once
#include "core/tensor.h"

namespace gander::ops {
void softmax(const Tensor& x, Tensor& out);
namespace ref {
void softmax(const Tensor& x, Tensor& out);
}
namespace fast {
void softmax(const Tensor& x, Tensor& out);
}
// In-place softmax of one row of n values (used inside attention and sampling).
void softmax_row(float* x, int64_t n);
// The same, returning the row's log-sum-exp log(sum_i exp(x_i)) (the losses' normaliser).
double softmax_row_lse(float* x, int64_t n);
}  // namespace gander::ops
