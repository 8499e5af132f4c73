#include "models/blocks/swiglu.h"

#include "ops/backward.h"
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

// Training: the gate's pre-activation, its activation and the up projection are kept.
namespace {
enum Saved { kX, kGatePre, kGate, kUp, kHidden };
}

void SwiGlu::train_forward(const Tensor& x, TrainPass& p, Tape& t) const {
  const int64_t R = p.rows;
  Tensor pre = Tensor::empty(DType::F32, {R, hidden_}), gate = Tensor::empty(DType::F32, {R, hidden_});
  Tensor up = Tensor::empty(DType::F32, {R, hidden_}), hid = Tensor::empty(DType::F32, {R, hidden_});
  train_linear(x, gate_, nullptr, pre, p);
  ops::activation(ops::Act::Silu, pre, gate);
  train_linear(x, up_, nullptr, up, p);
  ops::mul(gate, up, hid);
  train_emit(hid, down_, nullptr, p);
  t.at(kX) = x, t.at(kGatePre) = pre, t.at(kGate) = gate, t.at(kUp) = up, t.at(kHidden) = hid;
}

void SwiGlu::backward(const Tensor& d_out, TrainPass& p, const Tape& t, Tensor& dx) const {
  const int64_t R = p.rows;
  Tensor d_hid = Tensor::zeros(DType::F32, {R, hidden_});
  linear_backward(t.at(kHidden), down_, nullptr, d_out, p, &d_hid);
  Tensor d_gate = Tensor::empty(DType::F32, {R, hidden_}), d_up = Tensor::empty(DType::F32, {R, hidden_});
  ops::mul(d_hid, t.at(kUp), d_gate);  // through hid = gate * up
  ops::mul(d_hid, t.at(kGate), d_up);
  Tensor d_pre = Tensor::zeros(DType::F32, {R, hidden_});
  ops::activation_backward(ops::Act::Silu, t.at(kGatePre), d_gate, d_pre);
  linear_backward(t.at(kX), gate_, nullptr, d_pre, p, &dx);
  linear_backward(t.at(kX), up_, nullptr, d_up, p, &dx);
}

}  // namespace gander::models
