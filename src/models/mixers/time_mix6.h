// The RAD-RWKV6 time mix (spec radlads.md §3.6; the RADLADS code's TMix_qwen2rwkv6 with
// attention_type gla): the teacher's q/k/v/o with their biases as r/k/v/o, RWKV-6's
// data-dependent token shift ("ddlerp": one tanh LoRA of the input mixed with the previous token
// gives each of the five branches r, k, v, w, g its own per-token mix), a full-rank sigmoid gate,
// a data-dependent decay log w = max(-exp(time_decay + LoRA(x_w)), -5), the balanced key
// k * (1 - w), and the GLA recurrence (ops/gla.h: no bonus, no off-by-one) read with r * N^-1/2.
// No GroupNorm. k and v are computed at the teacher's KV-head width and repeated per query head
// (after RoPE on r and k, when the configuration has it).
//
//   dx = x[t-1] - x[t];  m = tanh((x + dx * maa_x) W1)  [5 x R];  x_i = x + dx * (maa_i + m_i W2_i)
//   r = x_r Wq^T + bq   k = x_k Wk^T + bk   v = x_v Wv^T + bv   g = sigmoid(x_g G^T)
//   log w = max(-exp(time_decay + tanh(x_w D1) D2), -5);   k <- k * (1 - w)
//   S_t = diag(w_t) S_{t-1} + k_t^T v_t;   y_t = (N^-1/2 r_t) S_t;   out = (y * g) Wo^T
#pragma once
#include <span>
#include <vector>

#include "models/block.h"

namespace gander::models {

struct TimeMix6Config {
  int64_t layer = 0, layers = 1;  // the fresh decay depends on layer / (layers - 1)
  int64_t width = 0;              // D
  int64_t heads = 0, head_size = 64, kv_heads = 0;
  int64_t rank_shift = 0, rank_decay = 0;  // LoRA ranks: token shift (x5 branches), decay
  double rope_theta = 0;                   // RoPE on r and k with this base; 0: none (the paper's RAD-RWKV6)
};

class TimeMix6 final : public Block {
 public:
  explicit TimeMix6(TimeMix6Config c);
  std::string describe() const override;
  void declare(ParamDecl& d) override;
  void declare_state(StateDecl& s) override;
  void forward(const Tensor& x, const Pass& pass) const override;
  void train_forward(const Tensor& x, TrainPass& p, Tape& tape) const override;
  void backward(const Tensor& d_out, TrainPass& p, const Tape& tape, Tensor& dx) const override;

 private:
  int64_t att_width() const { return c_.heads * c_.head_size; }
  int64_t kv_width() const { return c_.kv_heads * c_.head_size; }
  // Everything up to the recurrence's inputs and the gate, shared by both forwards: get(entry,
  // shape) gives the tensor an intermediate goes into, lin(x, W, bias, out) runs a product.
  template <class Get, class Lin>
  void compute_inputs(const Tensor& x, const Tensor& shifted, std::span<const int64_t> positions, Get get, Lin lin) const;

  TimeMix6Config c_;
  Tensor maa_x_, maa_[5];        // [D]: the shift mixes (maa_ in the branch order r, k, v, w, g)
  Tensor maa_w1_, maa_w2_;       // [5R, D] (Linear layout of their [D, 5R]); [5, R, D] as stored (x @ W2_i)
  Tensor decay_, decay_w1_, decay_w2_;  // [A]; [Rd, D]; [A, Rd]
  Tensor receptance_, key_, value_, output_, gate_;  // [A, D], [KV, D], [KV, D], [D, A], [A, D]
  Tensor r_bias_, k_bias_, v_bias_;
  size_t shift_ = 0, state_ = 0;
  std::vector<int> slot_;  // scratch slots of the inference forward, one per intermediate
};

}  // namespace gander::models
