#include "models/blocks/channel_mix7.h"

#include <cmath>

namespace gander::models {

ChannelMix7::ChannelMix7(int64_t width, int64_t hidden)
    : width_(width),
      hidden_(hidden),
      shifted_slot_(scratch_slot("rwkv7.shifted")),
      hidden_slot_(scratch_slot("channel_mix7.hidden")) {}

std::string ChannelMix7::describe() const { return concat("RWKV-7 channel mix (", hidden_, ")"); }

void ChannelMix7::declare(ParamDecl& d) {
  const Shape row{1, 1, width_};
  d.add(&x_k_, {width_}, Kind::Vector, Init::uniform(0, 1), {{{"ffn.x_k", row}, {"ffn.x_k", row}, {}}});
  d.add(&key_, {hidden_, width_}, Kind::Matrix, Init::normal(1.0f / std::sqrt(float(width_))),
        {{{"ffn.key.weight"}, {"ffn.key.weight"}, {}}});
  d.add(&value_, {width_, hidden_}, Kind::Matrix, Init::normal(1.0f / std::sqrt(float(hidden_))),
        {{{"ffn.value.weight"}, {"ffn.value.weight"}, {}}});
}

void ChannelMix7::declare_state(StateDecl& s) { shift_ = s.fixed("ffn_shift", {width_}); }

void ChannelMix7::forward(const Tensor& x, const Pass& pass) const {
  Tensor shifted = pass.scratch(shifted_slot_, {pass.rows, width_});
  token_shift(x, shifted, pass, shift_);
  Tensor hid = pass.scratch(hidden_slot_, {pass.rows, hidden_});
  ops::linear({.x = x, .W = key_, .bias = nullptr, .out = hid, .act = ops::Act::ReluSquared, .mix_to = &shifted,
               .mix = &x_k_},
              pass.precision);
  pass.emit(hid, value_);
}

}  // namespace gander::models
