// Training losses over the model's head, fused with the head's product: the logits of a block of
// rows are made, turned into the loss and its gradient, and multiplied back (dh = dlogits . W,
// dW += dlogits^T . h) before the next block, so no [rows, vocab] tensor of logits or of their
// gradient exists beside the model (as llm.c and Liger's fused linear cross-entropy do).
#pragma once
#include <span>

#include "core/tensor.h"
#include "ops/linear.h"

namespace gander::ops {

struct HeadLoss {
  const Tensor& h;  // [R, D] f32: the final norm's output
  const Tensor& W;  // [V, D] f32: the head
  std::span<const int32_t> targets;  // R ids; a negative one: the row takes no part
  // RWKV's L2Wrap (the official trainer's 1e-4): each row's largest logit gets an extra gradient
  // of factor * that logit / (rows counted), pulling the logits back from growing without bound.
  // The loss value does not include it.
  float l2wrap = 0;
  int64_t block = 256;  // rows per fused block
  Precision precision = Precision::F32;  // of the three head products (the references: f32 always)
};

// Mean cross-entropy -log softmax(h . W^T)[target] over the rows with a target. Gradients: dh
// (written, [R, D]) and dW (added into, when given).
double cross_entropy_head(const HeadLoss& in, Tensor& dh, Tensor* dW);

// Knowledge distillation (RADLADS step 2): the student's head product and the teacher's, fused
// the same way, block by block of rows.
struct HeadDistill {
  const Tensor& h;          // [R, D] f32: the student's final norm output
  const Tensor& W;          // [V, D] f32: the student's head
  const Tensor& teacher_h;  // [R, Dt] f32: the teacher's final norm output for the same tokens
  const Tensor& teacher_W;  // [V, Dt] f32: the teacher's head
  int64_t block = 256;
  Precision precision = Precision::F32;
};

// Mean over rows of the forward KL(p_teacher || p_student) = sum_v p_T (log p_T - log p_S), both
// at temperature 1, as the RADLADS trainer computes it. Gradients: dh (written), dW (added into,
// when given); the teacher gets none.
double kl_divergence_head(const HeadDistill& in, Tensor& dh, Tensor* dW);

// Per-token L2 distance (RADLADS step 1): the mean over rows of ||y_r - target_r||_2 / sqrt(D),
// D = y's last dimension. dy (written) is the gradient of `scale` times that mean (a row where y
// equals its target gets zero, the subgradient). Returns the unscaled mean.
double l2_distance(const Tensor& y, const Tensor& target, Tensor& dy, double scale = 1.0);

namespace ref {  // the same losses from the full logits in double (checks; small vocabularies)
double cross_entropy_head(const HeadLoss& in, Tensor& dh, Tensor* dW);
double kl_divergence_head(const HeadDistill& in, Tensor& dh, Tensor* dW);
double l2_distance(const Tensor& y, const Tensor& target, Tensor& dy, double scale = 1.0);
}  // namespace ref

}  // namespace gander::ops
