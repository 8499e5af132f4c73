// General matrix products for training: C = op(A) . op(B) (+ C), row-major, where op transposes
// when asked. f32 goes to oneDNN's sgemm; f64 (the double-precision gradient checks) to a plain
// loop. The linear layer's backward is two of these: dX = dY . W and dW += dY^T . X.
#pragma once
#include "core/tensor.h"

namespace gander::ops {

// A: [M, K] (or [K, M] when trans_a), B: [K, N] (or [N, K] when trans_b), C: [M, N]; all f32 or all
// f64, each viewed as a matrix over its last dimension. accumulate: C += product.
void matmul(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C, bool accumulate = false);

namespace ref {
void matmul(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C, bool accumulate = false);
}
namespace fast {
void matmul(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C, bool accumulate = false);
}

}  // namespace gander::ops
