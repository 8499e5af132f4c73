// The gated-linear-attention recurrence of RAD-RWKV6 (the GLA kernel: no bonus term, no
// off-by-one in the decay), per head of size N over one sequence:
//   S_t = diag(w_t) S_{t-1} + k_t^T v_t      (S: [key, value])
//   y_t = r_t S_t
// with r, w, k, v of [T, H*N] (w the decay itself, in (0, 1]; scales such as N^-1/2 are the
// caller's). It is RWKV-7's recurrence without the in-context removal term (a = b = 0) seen
// transposed, so it runs on the WKV7 kernels, fast forward and checkpointed backward, and the
// state is held as theirs: [H, N, N] indexed [value, key] (S^T per head).
#pragma once
#include "core/tensor.h"

namespace gander::ops {

struct GlaArgs {
  const Tensor &r, &w, &k, &v;
};
struct GlaGrads {  // added into
  Tensor &r, &w, &k, &v;
};

void gla(const GlaArgs& in, Tensor& state, Tensor& y);
// As ops::wkv7_forward_checkpointed: the state before every 16th token kept for the backward.
void gla_forward_checkpointed(const GlaArgs& in, Tensor& state, Tensor& y, Tensor& checkpoints);
// d_state: in, the gradient of the final state; out, that of the initial state.
void gla_backward(const GlaArgs& in, const Tensor& checkpoints, const Tensor& dy, const GlaGrads& g, Tensor& d_state);

namespace ref {  // the recurrence as written above, in double, in GLA's own [key, value] order
void gla(const GlaArgs& in, Tensor& state, Tensor& y);
}

}  // namespace gander::ops
