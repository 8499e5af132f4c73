// RWKV-7's channel mix (its FFN): a token-shift mix of the input, then
//   value(relu(key(lerp(x, x_prev, x_k)))^2)
// The shift vector (the normed input of the sequence's last token) is per-sequence state.
#pragma once
#include "models/block.h"

namespace gander::models {

class ChannelMix7 final : public Block {
 public:
  // layer of layers: the official init's x_k depends on it.
  ChannelMix7(int64_t width, int64_t hidden, int64_t layer = 0, int64_t layers = 1);
  std::string describe() const override;
  void declare(ParamDecl& d) override;
  void declare_state(StateDecl& s) override;
  void forward(const Tensor& x, const Pass& pass) const override;
  void train_forward(const Tensor& x, TrainPass& p, Tape& tape) const override;
  void backward(const Tensor& d_out, TrainPass& p, const Tape& tape, Tensor& dx) const override;

 private:
  int64_t width_, hidden_, layer_, layers_;
  Tensor x_k_;             // [C] token-shift mix
  Tensor key_, value_;     // [F, C], [C, F]
  size_t shift_ = 0;       // state entry
  int shifted_slot_, hidden_slot_;
};

}  // namespace gander::models
