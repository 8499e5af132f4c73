// Softmax attention as Qwen2 computes it (transformers' float32 path): q/k/v projections with
// biases, rotate-half RoPE on q and k, causal attention with grouped KV heads over the sequence's
// KV cache (per-sequence state that grows by one row per token), o_proj without bias.
#pragma once
#include "models/block.h"

namespace gander::models {

struct AttentionConfig {
  int64_t width = 0;  // D
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
  double rope_theta = 10000.0;
  bool qkv_bias = true;
};

class Attention final : public Block {
 public:
  explicit Attention(AttentionConfig c);
  std::string describe() const override;
  void declare(ParamDecl& d) override;
  void declare_state(StateDecl& s) override;
  void forward(const Tensor& x, const Pass& pass) const override;
  void train_forward(const Tensor& x, TrainPass& p, Tape& tape) const override;
  void backward(const Tensor& d_out, TrainPass& p, const Tape& tape, Tensor& dx) const override;
  double extra_flops(int64_t n) const override;

 private:
  AttentionConfig c_;
  Tensor q_, k_, v_, o_;              // [H*hd, D], [Hkv*hd, D], [Hkv*hd, D], [D, H*hd]
  Tensor q_bias_, k_bias_, v_bias_;   // f32
  size_t cache_k_ = 0, cache_v_ = 0;  // state entries [positions, Hkv, hd]
  int q_slot_, att_slot_, k_slot_, v_slot_;
};

}  // namespace gander::models
