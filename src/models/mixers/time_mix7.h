// The RWKV-7 time mix, the one implementation behind RWKV-7 "Goose" and the RADLADS RAD-RWKV7
// students (spec ../shared/spec/rwkv7.md, radlads.md §3). Per head of N channels, a state matrix
// updated by the generalised delta rule (ops/wkv7.h), with a decay, an in-context learning rate
// a, a value residual from layer 0 and an output gate, each from a LoRA of the input. The forms:
//
//   Goose (RWKV-7): token-shift mixes of the input for each branch, fresh r/k/v/o without
//     biases, removal key normalize(k * k_k), write key k * (1 + (a - 1) * k_a), the "bonus"
//     (r . (r_k * k)) v, GroupNorm ln_x.
//   RadDefault (the RADLADS repository default): no token shift; r/k/v/o are the teacher's
//     q/k/v/o with their biases, k and v at the teacher's KV-head width and repeated per query
//     head (GQA) after the teacher's RoPE on r and k; Goose's keys and GroupNorm; no bonus.
//   RadBalanced (the RADLADS paper's form): as RadDefault, with the removal key k / |k| and the
//     write key k * (1 - w + a) ("state balancing"), no GroupNorm: y * N^-1/2.
//
// The value residual reaches later layers through the workspace: layer 0 leaves its value in the
// "time_mix7.v_first" slot of the pass.
#pragma once
#include "models/block.h"
#include "ops/wkv7.h"

namespace gander::models {

struct TimeMix7Config {
  enum class Form { Goose, RadDefault, RadBalanced };
  Form form = Form::Goose;
  int64_t layer = 0;        // layer 0 makes v_first; the others mix it in
  int64_t layers = 1;       // L: the model's layer count (the official init depends on l / L)
  int64_t width = 0;        // D: the input and output width
  int64_t heads = 0;        // H
  int64_t head_size = 64;   // N (RADLADS: the teacher's head_dim)
  int64_t kv_heads = 0;     // k and v are computed for this many heads and repeated (Goose: = heads)
  int64_t rank_w = 0, rank_a = 0, rank_v = 0, rank_g = 0;  // LoRA ranks
  double rope_theta = 0;    // RoPE on r and k with this base; 0: none (Goose)
  float group_norm_eps = 64e-5f;  // ln_x: head_size * 1e-5
  bool token_shift() const { return form == Form::Goose; }
  bool group_norm() const { return form != Form::RadBalanced; }
};

class TimeMix7 final : public Block {
 public:
  explicit TimeMix7(TimeMix7Config c);
  const TimeMix7Config& config() const { return c_; }
  std::string describe() const override;
  void declare(ParamDecl& d) override;
  void declare_state(StateDecl& s) override;
  void forward(const Tensor& x, const Pass& pass) const override;
  // Training (time_mix7_train.cpp; every form).
  void train_forward(const Tensor& x, TrainPass& p, Tape& tape) const override;
  void backward(const Tensor& d_out, TrainPass& p, const Tape& tape, Tensor& dx) const override;

 private:
  int64_t att_width() const { return c_.heads * c_.head_size; }  // A
  int64_t kv_width() const { return c_.kv_heads * c_.head_size; }
  struct Buffers;
  void projections(const Tensor& x, const Pass& pass, Buffers& b) const;
  void recurrence(const Pass& pass, Buffers& b) const;
  ops::Wkv7Output output_args(const Tensor& y, const Tensor& r, const Tensor& k, const Tensor& v,
                              const Tensor& g) const;

  TimeMix7Config c_;
  Tensor x_r_, x_w_, x_k_, x_v_, x_a_, x_g_;  // [D] token-shift mixes (Goose)
  Tensor w0_, a0_, v0_;                       // [A] biases of the second LoRA matrices (v0: layers > 0)
  Tensor w1_, w2_, a1_, a2_, v1_, v2_, g1_, g2_;  // LoRAs, Linear layout: *1 [rank, D], *2 [A, rank]
  Tensor k_k_, k_a_, r_k_;                    // [A]
  Tensor receptance_, key_, value_, output_;  // [A, D], [KV, D], [KV, D], [D, A]
  Tensor r_bias_, k_bias_, v_bias_;           // RADLADS: the teacher's q/k/v biases
  Tensor ln_x_w_, ln_x_b_;                    // [A] GroupNorm (Goose, RadDefault)
  size_t shift_ = 0, wkv_ = 0;                // state entries
  std::vector<int> slot_;  // scratch slots
};

}  // namespace gander::models
