// The RADLADS students' backward through the teacher's heads: r and k were rotated by the
// teacher's RoPE (r per query head, k per KV head), then k and v repeated from the KV heads to
// every query head (grouped-query sharing). Shared by the RAD-RWKV7 and RAD-RWKV6 time mixes.
#pragma once
#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace gander::models {

struct TeacherHeads {
  int64_t heads = 0, kv_heads = 0, head_size = 0;
  double rope_theta = 0;  // 0: no RoPE
};

// dr ([R, heads * N]) is rotated back in place; dk, dv ([R, heads * N]) are summed back to the KV
// heads into dk_kv, dv_kv ([R, kv_heads * N], zeroed here), which are dk, dv themselves when
// every head has its own; dk_kv is then rotated back.
void teacher_heads_backward(const TeacherHeads& h, std::span<const int64_t> positions, Tensor& dr, const Tensor& dk,
                            const Tensor& dv, Tensor& dk_kv, Tensor& dv_kv);

}  // namespace gander::models
