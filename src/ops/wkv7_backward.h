// Training the RWKV-7 time mix: its three ops of ops/wkv7.h over one sequence, forward with what
// backward keeps, and backward. The recurrence keeps only the state before every
// kWkv7Checkpoint-th token (as the official CUDA kernel does) and recomputes the states within a
// stretch from it, so its memory is O(T/16 * H * N^2) beside the O(T * C) inputs. Gradients are
// added into their outputs (callers zero them first).
#pragma once
#include "core/tensor.h"
#include "ops/wkv7.h"

namespace gander::ops {

inline constexpr int64_t kWkv7Checkpoint = 16;

// The recurrence of ops::wkv7 over one sequence of T tokens from `state` (updated to the final
// state), keeping the state before tokens 0, 16, 32, ... in checkpoints [ceil(T/16), H, N, N].
void wkv7_forward_checkpointed(const Wkv7Args& in, Tensor& state, Tensor& y, Tensor& checkpoints);

struct Wkv7Grads {
  Tensor& r;
  Tensor& w;
  Tensor& k;
  Tensor& v;
  Tensor& a;
  Tensor& b;
};
// d_state: in, the gradient of the final state (zeros when nothing follows); out, that of the
// initial state (state tuning trains it).
void wkv7_backward(const Wkv7Args& in, const Tensor& checkpoints, const Tensor& dy, const Wkv7Grads& g,
                   Tensor& d_state);

// wkv7_prepare's backward, from its inputs as they were before the op overwrote k and d:
// the gradients of its outputs (k~, w, a_in, b_in) give those of k, d (the decay pre-activation),
// a and, Goose form, k_k and k_a (summed over rows).
struct Wkv7PrepareBackward {
  const Tensor& k;  // the key before the op
  const Tensor& d;  // the decay pre-activation before the op
  const Tensor& a;
  const Tensor* k_k;
  const Tensor* k_a;
  Wkv7Keys keys;
  const Tensor& dk_out;  // gradient of k~
  const Tensor& dw;      // of the decay w
  const Tensor& da_in;
  const Tensor& db_in;
  Tensor& dk;
  Tensor& dd;
  Tensor& da;
  Tensor* dk_k;
  Tensor* dk_a;
};
void wkv7_prepare_backward(const Wkv7PrepareBackward& p, int64_t head_size);

// wkv7_output's backward (o as for the forward; o.y the recurrence's output, not overwritten):
// dy, dr, dk, dv, dg (per token), d_ln_w, d_ln_b, d_r_k (summed over rows; when the form has them).
struct Wkv7OutputGrads {
  Tensor& y;
  Tensor& r;
  Tensor& k;
  Tensor& v;
  Tensor& g;
  Tensor* ln_w;
  Tensor* ln_b;
  Tensor* r_k;
};
void wkv7_output_backward(const Wkv7Output& o, int64_t head_size, const Tensor& dout, const Wkv7OutputGrads& g);

namespace ref {  // double precision; every state kept
void wkv7_backward(const Wkv7Args& in, const Tensor& initial_state, const Tensor& dy, const Wkv7Grads& g,
                   Tensor& d_state);
}

}  // namespace gander::ops
