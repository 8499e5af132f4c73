// Training losses over the model's head, fused with the head's product: the logits of a block of
// rows are made, turned into the loss and its gradient, and multiplied back (dh = dlogits . W,
// dW += dlogits^T . h) before the next block, so no [rows, vocab] tensor of logits or of their
// gradient exists beside the model (as llm.c and Liger's fused linear cross-entropy do).
#pragma once
#include <span>

#include "core/tensor.h"

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
};

// Mean cross-entropy -log softmax(h . W^T)[target] over the rows with a target. Gradients: dh
// (written, [R, D]) and dW (added into, when given).
double cross_entropy_head(const HeadLoss& in, Tensor& dh, Tensor* dW);

namespace ref {  // the same loss from the full logits in double (checks; small vocabularies)
double cross_entropy_head(const HeadLoss& in, Tensor& dh, Tensor* dW);
}

}  // namespace gander::ops
