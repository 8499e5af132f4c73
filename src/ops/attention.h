// Causal scaled-dot-product attention with grouped KV heads (GQA), f32.
//   q: [T, Hq, D] for query positions pos0 .. pos0+T-1
//   k, v: [S, Hkv, D] for key positions 0 .. S-1 (a KV cache plus the new tokens), S >= pos0 + T
//   out: [T, Hq, D]; query head h reads KV head h / (Hq / Hkv); key s is visible to query t
//   when s <= pos0 + t; scores are scaled by 1/sqrt(D).
#pragma once
#include "core/tensor.h"

namespace gander::ops {
void attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t pos0, Tensor& out);
namespace ref {
void attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t pos0, Tensor& out);
}
namespace fast {
void attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t pos0, Tensor& out);
}
}  // namespace gander::ops
