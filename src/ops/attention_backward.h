// Training causal attention (ops/attention.h's convention, one sequence from position 0): the
// forward also keeps each query row's log-sum-exp of scores, and the backward recomputes the
// probabilities block by block of 64 queries from it (as flash attention does) instead of storing
// [T, T] per head: memory O(T * heads) beside q, k, v, plus one [64, T] block. Every step is a
// matrix product (oneDNN sgemm) or a pass over a block. Gradients are added into dq, dk, dv.
#pragma once
#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace gander::ops {

// q, out: [T, Hq, D]; k, v: [T, Hkv, D]; lse: [T, Hq].
void attention_train(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, Tensor& lse);
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv);
namespace ref {  // double precision with the full probability matrix
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dout, Tensor& dq, Tensor& dk,
                        Tensor& dv);
}

// The gradient through ops::rope: the transposed rotation, i.e. the rotation by minus each
// angle (dx = R(a)^T dy = R(-a) dy, exactly, as cos is even and sin odd). dx may alias dy.
void rope_backward(const Tensor& dy, std::span<const int64_t> positions, double theta, Tensor& dx);

// The gradient through ops::repeat_heads: each KV head's gradient is the sum over the query
// heads it served (added into dx).
void repeat_heads_backward(const Tensor& dout, int64_t group, int64_t head_size, Tensor& dx);

}  // namespace gander::ops
