// General matrix products for training: C = op(A) . op(B) (+ C), row-major, where op transposes
// when asked. f32 goes to oneDNN's sgemm; f64 (the double-precision gradient checks) to a plain
// loop. The linear layer's backward is two of these: dX = dY . W and dW += dY^T . X.
// Precision::BF16 (mixed-precision training) rounds both f32 operands to bf16 and multiplies them
// on the bf16 units (oneDNN's matmul: AMX or AVX512-BF16), accumulating in f32.
#pragma once
#include "core/tensor.h"
#include "ops/linear.h"

namespace gander::ops {

// A: [M, K] (or [K, M] when trans_a), B: [K, N] (or [N, K] when trans_b), C: [M, N]; all f32 or all
// f64, each viewed as a matrix over its last dimension. accumulate: C += product. BF16 takes f32 only.
void matmul(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C, bool accumulate = false,
            Precision p = Precision::F32);

namespace ref {  // BF16: the operands rounded to bf16, then multiplied in double
void matmul(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C, bool accumulate = false,
            Precision p = Precision::F32);
}
namespace fast {
void matmul(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C, bool accumulate = false,
            Precision p = Precision::F32);
}

}  // namespace gander::ops
