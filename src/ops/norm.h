// Normalisations over the last dimension (per row), all f32:
//   layer_norm  y = (x - mean) / sqrt(var + eps) * w + b           (biased variance, as PyTorch)
//   group_norm  the same within each of `groups` equal slices of a row (RWKV-7 ln_x: one per head)
//   rms_norm    y = x / sqrt(mean(x^2) + eps) * w                    (Qwen2 / HF LlamaRMSNorm)
//   l2_norm_groups  y = x / max(||x||_2, eps) within each slice of `group` channels (F.normalize)
// out may alias x.
#pragma once
#include "core/tensor.h"

namespace gander::ops {

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& out);
void group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, float eps, Tensor& out);
void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out);
void l2_norm_groups(const Tensor& x, int64_t group, float eps, Tensor& out);

namespace ref {
void group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, float eps, Tensor& out);
void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out);
void l2_norm_groups(const Tensor& x, int64_t group, float eps, Tensor& out);
}  // namespace ref
namespace fast {
void group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, float eps, Tensor& out);
void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out);
void l2_norm_groups(const Tensor& x, int64_t group, float eps, Tensor& out);
}  // namespace fast

namespace detail {
// One slice of layer_norm / group_norm: n floats, two-pass f32 statistics, AVX-512.
void normalize_avx512(const float* x, const float* w, const float* b, float eps, int64_t n, float* y);
}  // namespace detail

}  // namespace gander::ops
