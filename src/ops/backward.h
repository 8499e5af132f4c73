// Backward of the element-wise and normalisation ops, for training. f32 tensors; every gradient
// output is added into (callers zero it first), so one op's contributions and another's meet in
// one buffer without a copy. The formulas are ops/grad_kernels.h.
#pragma once
#include "core/tensor.h"
#include "ops/elementwise.h"

namespace gander::ops {

// dx += dy * act'(x), element-wise.
void activation_backward(Act a, const Tensor& x, const Tensor& dy, Tensor& dx);
// out = a + (b - a) * mix, with mix [C] (broadcast over rows: token-shift mixes) or a's shape
// (element-wise: the value residual): da += dout * (1 - mix), db += dout * mix,
// dmix += dout * (b - a) (summed over rows when broadcast). Null outputs are skipped.
void lerp_backward(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& dout, Tensor* da, Tensor* db,
                   Tensor* dmix);
// group_norm / layer_norm (groups = 1) of ops/norm.h: dx += ..., dw += dy * x_hat, db += dy.
void group_norm_backward(const Tensor& x, int64_t groups, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db);
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx, Tensor* dw);

namespace ref {  // the formulas in double, one thread
void activation_backward(Act a, const Tensor& x, const Tensor& dy, Tensor& dx);
void lerp_backward(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& dout, Tensor* da, Tensor* db,
                   Tensor* dmix);
void group_norm_backward(const Tensor& x, int64_t groups, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db);
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx, Tensor* dw);
}  // namespace ref
namespace fast {  // f32, rows in parallel (weight gradients reduced per thread, then in a fixed order)
void activation_backward(Act a, const Tensor& x, const Tensor& dy, Tensor& dx);
void lerp_backward(const Tensor& a, const Tensor& b, const Tensor& mix, const Tensor& dout, Tensor* da, Tensor* db,
                   Tensor* dmix);
void group_norm_backward(const Tensor& x, int64_t groups, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db);
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx, Tensor* dw);
}  // namespace fast

}  // namespace gander::ops
