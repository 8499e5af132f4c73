#include "models/blocks/swiglu.h"

#include "ops/elementwise.h"

namespace gander::models {

SwiGlu::SwiGlu(int64_t width, int64_t hidden)
    : width_(width), hidden_(hidden), gate_slot_(scratch_slot("swiglu.gate")), up_slot_(scratch_slot("swiglu.up")) {}

std::string SwiGlu::describe() const { return concat("SwiGLU MLP (", hidden_, ")"); }

void SwiGlu::declare(ParamDecl& d) {
  const Init init = Init::normal(0.02f);
  d.add(&gate_, {hidden_, width_}, Kind::Matrix, init, {{{}, {}, {"mlp.gate_proj.weight"}}});
  d.add(&up_, {hidden_, width_}, Kind::Matrix, init, {{{}, {}, {"mlp.up_proj.weight"}}});
  d.add(&down_, {width_, hidden_}, Kind::Matrix, init, {{{}, {}, {"mlp.down_proj.weight"}}});
}

void SwiGlu::forward(const Tensor& x, const Pass& pass) const {
  Tensor gate = pass.scratch(gate_slot_, {pass.rows, hidden_}), up = pass.scratch(up_slot_, {pass.rows, hidden_});
  const ops::LinearJob jobs[] = {{x, gate_, nullptr, gate, ops::Act::Silu}, {x, up_, nullptr, up}};
  ops::linear_group(jobs, pass.precision);
  ops::mul(gate, up, gate);
  pass.emit(gate, down_);
}

}  // namespace gander::models
