#include "models/blocks/channel_mix7.h"

#include <cmath>

#include "ops/backward.h"
#include "ops/matmul.h"

namespace gander::models {

ChannelMix7::ChannelMix7(int64_t width, int64_t hidden, int64_t layer, int64_t layers)
    : width_(width),
      hidden_(hidden),
      layer_(layer),
      layers_(layers),
      shifted_slot_(scratch_slot("rwkv7.shifted")),
      hidden_slot_(scratch_slot("channel_mix7.hidden")) {}

std::string ChannelMix7::describe() const { return concat("RWKV-7 channel mix (", hidden_, ")"); }

void ChannelMix7::declare(ParamDecl& d) {
  const Shape row{1, 1, width_};
  // From scratch (spec §5.1): x_k = 1 - (n/C)^(r1^4), r1 = 1 - l/L; key orthogonal; value 0.
  const double r1 = 1.0 - double(layer_) / double(layers_);
  std::vector<float> x_k(static_cast<size_t>(width_));
  for (int64_t n = 0; n < width_; ++n)
    x_k[size_t(n)] = float(1.0 - std::pow(double(n) / double(width_), std::pow(r1, 4.0)));
  d.add(&x_k_, {width_}, Kind::Vector, Init::uniform(0, 1), {{{"ffn.x_k", row}, {"ffn.x_k", row}, {}}}).fresh =
      Init::of_values(std::move(x_k));
  d.add(&key_, {hidden_, width_}, Kind::Matrix, Init::normal(1.0f / std::sqrt(float(width_))),
        {{{"ffn.key.weight"}, {"ffn.key.weight"}, {}}})
      .fresh = official_orthogonal(hidden_, width_, 1.0f);
  d.add(&value_, {width_, hidden_}, Kind::Matrix, Init::normal(1.0f / std::sqrt(float(hidden_))),
        {{{"ffn.value.weight"}, {"ffn.value.weight"}, {}}})
      .fresh = Init::constant(0);
}

void ChannelMix7::declare_state(StateDecl& s) { shift_ = s.fixed("ffn_shift", {width_}); }

void ChannelMix7::forward(const Tensor& x, const Pass& pass) const {
  Tensor shifted = pass.scratch(shifted_slot_, {pass.rows, width_});
  token_shift(x, shifted, pass.segments, shift_);
  Tensor hid = pass.scratch(hidden_slot_, {pass.rows, hidden_});
  ops::linear({.x = x, .W = key_, .bias = nullptr, .out = hid, .act = ops::Act::ReluSquared, .mix_to = &shifted,
               .mix = &x_k_},
              pass.precision);
  pass.emit(hid, value_);
}

// Training: the same computation unfused, keeping its input, the mixed input and the key's
// pre-activation and activation.
namespace {
enum Saved { kX, kShifted, kMixed, kPre, kAct };
}

void ChannelMix7::train_forward(const Tensor& x, TrainPass& p, Tape& tape) const {
  const int64_t R = p.rows;
  Tensor shifted = Tensor::empty(DType::F32, {R, width_}), mixed = Tensor::empty(DType::F32, {R, width_});
  token_shift(x, shifted, p.segments, shift_);
  ops::lerp(x, shifted, x_k_, mixed);
  Tensor pre = Tensor::empty(DType::F32, {R, hidden_}), act = Tensor::empty(DType::F32, {R, hidden_});
  train_linear(mixed, key_, nullptr, pre, p);
  ops::activation(ops::Act::ReluSquared, pre, act);
  train_emit(act, value_, nullptr, p);
  tape.at(kX) = x, tape.at(kShifted) = shifted, tape.at(kMixed) = mixed, tape.at(kPre) = pre, tape.at(kAct) = act;
}

void ChannelMix7::backward(const Tensor& d_out, TrainPass& p, const Tape& tape, Tensor& dx) const {
  const int64_t R = p.rows;
  Tensor d_act = Tensor::zeros(DType::F32, {R, hidden_}), d_pre = Tensor::zeros(DType::F32, {R, hidden_});
  linear_backward(tape.at(kAct), value_, nullptr, d_out, p, &d_act);
  ops::activation_backward(ops::Act::ReluSquared, tape.at(kPre), d_act, d_pre);
  Tensor d_mixed = Tensor::zeros(DType::F32, {R, width_}), d_shifted = Tensor::zeros(DType::F32, {R, width_});
  linear_backward(tape.at(kMixed), key_, nullptr, d_pre, p, &d_mixed);
  ops::lerp_backward(tape.at(kX), tape.at(kShifted), x_k_, d_mixed, &dx, &d_shifted, p.grads->of(x_k_));
  token_shift_backward(d_shifted, dx, p, shift_);
}

}  // namespace gander::models
