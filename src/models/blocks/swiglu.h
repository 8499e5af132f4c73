// The SwiGLU MLP of Qwen2 (and of the RADLADS students, which keep the teacher's):
//   down(silu(gate(x)) * up(x))
#pragma once
#include "models/block.h"

namespace gander::models {

class SwiGlu final : public Block {
 public:
  SwiGlu(int64_t width, int64_t hidden);
  std::string describe() const override;
  void declare(ParamDecl& d) override;
  void forward(const Tensor& x, const Pass& pass) const override;
  void train_forward(const Tensor& x, TrainPass& p, Tape& tape) const override;
  void backward(const Tensor& d_out, TrainPass& p, const Tape& tape, Tensor& dx) const override;

 private:
  int64_t width_, hidden_;
  Tensor gate_, up_, down_;  // [I, D], [I, D], [D, I]
  int gate_slot_, up_slot_;
};

}  // namespace gander::models
