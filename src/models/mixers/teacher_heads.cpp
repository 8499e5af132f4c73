#include "models/mixers/teacher_heads.h"

#include "ops/attention_backward.h"

namespace gander::models {

void teacher_heads_backward(const TeacherHeads& h, std::span<const int64_t> positions, Tensor& dr, const Tensor& dk,
                            const Tensor& dv, Tensor& dk_kv, Tensor& dv_kv) {
  const int64_t R = dr.dim(0), N = h.head_size, KV = h.kv_heads * N;
  if (h.kv_heads != h.heads) {
    dk_kv = Tensor::zeros(DType::F32, {R, KV}), dv_kv = Tensor::zeros(DType::F32, {R, KV});
    ops::repeat_heads_backward(dk, h.heads / h.kv_heads, N, dk_kv);
    ops::repeat_heads_backward(dv, h.heads / h.kv_heads, N, dv_kv);
  } else {
    dk_kv = dk, dv_kv = dv;
  }
  if (h.rope_theta > 0) {
    Tensor dr3 = dr.reshape({R, h.heads, N}), dk3 = dk_kv.reshape({R, h.kv_heads, N});
    ops::rope_backward(dr3, positions, h.rope_theta, dr3);
    ops::rope_backward(dk3, positions, h.rope_theta, dk3);
  }
}

}  // namespace gander::models
