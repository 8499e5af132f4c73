// RAD-RWKV6's time mix: the inference forward and, beside it, the training forward (every
// intermediate kept on the tape) and its backward. Both forwards run one body (compute), given
// where each intermediate goes and how a product runs (the tiled inference kernels, or
// training's f32 master weights).
#include "models/mixers/time_mix6.h"

#include <cmath>
#include <cstring>

#include "models/mixers/teacher_heads.h"
#include "models/training.h"
#include "models/workspace.h"
#include "ops/backward.h"
#include "ops/elementwise.h"
#include "ops/gla.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/repeat_heads.h"
#include "ops/rope.h"
#include "ops/wkv7_backward.h"

namespace gander::models {

namespace {
constexpr int kBranches = 5;  // r, k, v, w, g: their order in time_maa_w1's columns and time_maa_w2
constexpr int kBr = 0, kBk = 1, kBv = 2, kBw = 3, kBg = 4;
// Intermediates: tape entries in training, scratch slots in inference. The GLA checkpoints of
// segment s are at kCheckpoints + s.
enum Saved : int {
  kShifted, kXxx, kMPre, kM, kM0, kMix0 = kM0 + kBranches, kX0 = kMix0 + kBranches, kR = kX0 + kBranches, kRs,
  kKKv, kVKv, kKRaw, kV, kLdPre, kLd, kDPre, kW, kKBal, kGPre, kG, kY, kO, kCheckpoints
};

Tensor zeros_f32(int64_t R, int64_t C) { return Tensor::zeros(DType::F32, {R, C}); }

// time_maa_w2's matrix of branch i: [R, D], the right-hand side of m_i . W2_i.
Tensor w2_of(const Tensor& w2, int i) {
  const int64_t R = w2.dim(1), D = w2.dim(2);
  return w2.reshape({kBranches * R, D}).rows(i * R, R);
}
}  // namespace

TimeMix6::TimeMix6(TimeMix6Config c) : c_(c) {
  GANDER_CHECK(c_.heads > 0 && c_.kv_heads > 0 && c_.heads % c_.kv_heads == 0, "RAD-RWKV6 time mix: ", c_.heads,
               " heads cannot share ", c_.kv_heads, " KV heads");
  GANDER_CHECK(c_.rank_shift > 0 && c_.rank_decay > 0, "RAD-RWKV6 time mix: LoRA ranks must be positive");
  // The inference forward's scratch, named once here rather than on every decoded token.
  for (int e = 0; e < kCheckpoints; ++e) slot_.push_back(scratch_slot(concat("time_mix6.", e)));
}

std::string TimeMix6::describe() const {
  std::string s = concat("RAD-RWKV6 time mix (", c_.heads, " heads x ", c_.head_size);
  if (c_.kv_heads != c_.heads) s += concat(", ", c_.kv_heads, " KV heads");
  if (c_.rope_theta > 0) s += concat(", RoPE ", c_.rope_theta);
  return s + ")";
}

void TimeMix6::declare(ParamDecl& d) {
  const int64_t D = c_.width, A = att_width(), KV = kv_width(), Rs = c_.rank_shift, Rd = c_.rank_decay;
  const Shape row_d{1, 1, D}, row_a{1, 1, A};
  auto hf = [](const std::string& n, Shape s = {}, bool transposed = false) {
    return Aliases{Alias{}, Alias{}, Alias{"self_attn." + n, std::move(s), transposed}};
  };
  // Fresh values: the RADLADS code's reset_parameters (spec radlads.md §3.5); r/k/v/o and their
  // biases come from the teacher, so those keep the random init of benchmarks and tests.
  d.add(&maa_x_, {D}, Kind::Vector, Init::uniform(0, 1), hf("time_maa_x", row_d)).fresh = Init::constant(1);
  const char* names[kBranches] = {"time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"};
  for (int i = 0; i < kBranches; ++i)
    d.add(&maa_[i], {D}, Kind::Vector, Init::uniform(0, 1), hf(names[i], row_d)).fresh = Init::constant(0);
  const float s = 1.0f / std::sqrt(float(D));
  d.add(&maa_w1_, {kBranches * Rs, D}, Kind::Lora, Init::normal(s), hf("time_maa_w1", {D, kBranches * Rs}, true)).fresh =
      Init::constant(0);
  d.add(&maa_w2_, {kBranches, Rs, D}, Kind::Vector, Init::uniform(-0.1f, 0.1f), hf("time_maa_w2")).fresh =
      Init::uniform(-0.01f, 0.01f);
  // time_decay[n] = -6 + 5 (n / (A-1))^(0.7 + 1.3 l), l = layer / (layers - 1).
  const double l = c_.layers > 1 ? double(c_.layer) / double(c_.layers - 1) : 0.0;
  std::vector<float> decay(static_cast<size_t>(A));
  for (int64_t n = 0; n < A; ++n) decay[size_t(n)] = float(-6.0 + 5.0 * std::pow(double(n) / double(A - 1), 0.7 + 1.3 * l));
  d.add(&decay_, {A}, Kind::Vector, Init::uniform(-6, -1), hf("time_decay", row_a)).fresh = Init::of_values(decay);
  d.add(&decay_w1_, {Rd, D}, Kind::Lora, Init::normal(s), hf("time_decay_w1", {D, Rd}, true)).fresh = Init::constant(0);
  d.add(&decay_w2_, {A, Rd}, Kind::Lora, Init::normal(0.1f), hf("time_decay_w2", {Rd, A}, true)).fresh =
      Init::uniform(-0.01f, 0.01f);
  const Init matrix = Init::normal(s);
  d.add(&receptance_, {A, D}, Kind::Matrix, matrix, hf("q_proj.weight"));
  d.add(&key_, {KV, D}, Kind::Matrix, matrix, hf("k_proj.weight"));
  d.add(&value_, {KV, D}, Kind::Matrix, matrix, hf("v_proj.weight"));
  d.add(&output_, {D, A}, Kind::Matrix, matrix, hf("o_proj.weight"));
  // (Their reset_parameters zeroes the gate, then nn.Linear's own reset makes it Kaiming-uniform.)
  d.add(&gate_, {A, D}, Kind::Matrix, matrix, hf("gate.weight")).fresh = Init::uniform(-s, s);
  const Init bias = Init::normal(0.02f);
  d.add(&r_bias_, {A}, Kind::Vector, bias, hf("q_proj.bias"));
  d.add(&k_bias_, {KV}, Kind::Vector, bias, hf("k_proj.bias"));
  d.add(&v_bias_, {KV}, Kind::Vector, bias, hf("v_proj.bias"));
}

void TimeMix6::declare_state(StateDecl& s) {
  shift_ = s.fixed("att_shift", {c_.width});
  state_ = s.fixed("wkv", {c_.heads, c_.head_size, c_.head_size}, /*tunable=*/true);
  if (c_.rope_theta > 0) s.uses_positions();
}

// Everything up to the recurrence's inputs (kRs, kW, kKBal, kV) and the gate (kG), from x and its
// shifted copy. get(entry, shape) gives the tensor an intermediate goes into; lin(x, W, bias, out)
// runs a product.
template <class Get, class Lin>
void TimeMix6::compute_inputs(const Tensor& x, const Tensor& shifted, std::span<const int64_t> positions, Get get,
                              Lin lin) const {
  const TimeMix6Config& c = c_;
  const Tensor &maa_x = maa_x_, *maa = maa_, &maa_w1 = maa_w1_, &maa_w2 = maa_w2_, &decay = decay_;
  const Tensor &decay_w1 = decay_w1_, &decay_w2 = decay_w2_, &receptance = receptance_, &key = key_, &value = value_;
  const Tensor &gate = gate_, &r_bias = r_bias_, &k_bias = k_bias_, &v_bias = v_bias_;
  using ops::Act;
  const int64_t R = x.dim(0), D = c.width, A = c.heads * c.head_size, KV = c.kv_heads * c.head_size;
  const int64_t Rs = c.rank_shift, N = c.head_size;
  // The data-dependent token shift.
  Tensor& xxx = get(kXxx, {R, D});
  ops::lerp(x, shifted, maa_x, xxx);
  Tensor& m_pre = get(kMPre, {R, kBranches * Rs});
  lin(xxx, maa_w1, nullptr, m_pre);
  Tensor& m = get(kM, {R, kBranches * Rs});
  ops::activation(Act::Tanh, m_pre, m);
  for (int i = 0; i < kBranches; ++i) {
    Tensor& mi = get(kM0 + i, {R, Rs});
    for (int64_t t = 0; t < R; ++t)
      std::memcpy(mi.data<float>() + t * Rs, m.data<float>() + t * kBranches * Rs + i * Rs, size_t(Rs) * sizeof(float));
    Tensor& mix = get(kMix0 + i, {R, D});
    ops::matmul(mi, false, w2_of(maa_w2, i), false, mix);
    const float* b = maa[i].data<float>();
    float* pm = mix.data<float>();
    for (int64_t t = 0; t < R; ++t)
      for (int64_t j = 0; j < D; ++j) pm[t * D + j] += b[j];
    ops::lerp(x, shifted, mix, get(kX0 + i, {R, D}));
  }
  // r, k, v: the teacher's projections (RoPE'd, k and v repeated per query head); the gate.
  const bool grouped = KV != A;
  Tensor& r = get(kR, {R, A});
  lin(get(kX0 + kBr, {R, D}), receptance, &r_bias, r);
  Tensor& k_kv = get(grouped ? kKKv : kKRaw, {R, KV});
  Tensor& v_kv = get(grouped ? kVKv : kV, {R, KV});
  lin(get(kX0 + kBk, {R, D}), key, &k_bias, k_kv);
  lin(get(kX0 + kBv, {R, D}), value, &v_bias, v_kv);
  if (c.rope_theta > 0) {
    Tensor r3 = r.reshape({R, c.heads, N}), k3 = k_kv.reshape({R, c.kv_heads, N});
    ops::rope(r3, positions, c.rope_theta, r3);
    ops::rope(k3, positions, c.rope_theta, k3);
  }
  if (grouped) {
    ops::repeat_heads(k_kv, c.heads / c.kv_heads, N, get(kKRaw, {R, A}));
    ops::repeat_heads(v_kv, c.heads / c.kv_heads, N, get(kV, {R, A}));
  }
  Tensor& g_pre = get(kGPre, {R, A});
  lin(get(kX0 + kBg, {R, D}), gate, nullptr, g_pre);
  ops::activation(Act::Sigmoid, g_pre, get(kG, {R, A}));
  // The decay, clamped at log w = -5, and the balanced key k * (1 - w).
  Tensor& ld_pre = get(kLdPre, {R, c.rank_decay});
  lin(get(kX0 + kBw, {R, D}), decay_w1, nullptr, ld_pre);
  Tensor& ld = get(kLd, {R, c.rank_decay});
  ops::activation(Act::Tanh, ld_pre, ld);
  Tensor& d_pre = get(kDPre, {R, A});
  lin(ld, decay_w2, &decay, d_pre);
  Tensor& w = get(kW, {R, A});
  Tensor& k_bal = get(kKBal, {R, A});
  Tensor& rs = get(kRs, {R, A});
  const float* pd = d_pre.data<float>();
  const Tensor& k_raw = get(kKRaw, {R, A});
  const float *pk = k_raw.data<float>(), *pr = r.data<float>();
  float *pw = w.data<float>(), *pb = k_bal.data<float>(), *ps = rs.data<float>();
  const float scale = 1.0f / std::sqrt(float(N));
  for (int64_t j = 0; j < R * A; ++j) {
    pw[j] = std::exp(std::max(-std::exp(pd[j]), -5.0f));
    pb[j] = pk[j] * (1.0f - pw[j]);
    ps[j] = pr[j] * scale;
  }
}

void TimeMix6::forward(const Tensor& x, const Pass& pass) const {
  const int64_t T = pass.rows, D = c_.width;
  Tensor held[kCheckpoints];
  auto get = [&](int e, const Shape& shape) -> Tensor& {
    if (!held[e].defined()) held[e] = pass.scratch(slot_[size_t(e)], shape);
    return held[e];
  };
  Tensor& shifted = get(kShifted, {T, D});
  token_shift(x, shifted, pass.segments, shift_);
  auto lin = [&](const Tensor& in, const Tensor& W, const Tensor* bias, Tensor& out) {
    ops::linear(ops::LinearJob{.x = in, .W = W, .bias = bias, .out = out}, pass.precision);
  };
  compute_inputs(x, shifted, pass.positions, get, lin);
  const int64_t A = att_width();
  Tensor& y = get(kY, {T, A});
  for (const Segment& sg : pass.segments) {
    auto part = [&](int e) { return held[e].rows(sg.row0, sg.rows); };
    Tensor ys = part(kY);
    ops::gla({part(kRs), part(kW), part(kKBal), part(kV)}, sg.state->at(state_), ys);
  }
  ops::mul(y, held[kG], y);
  pass.emit(y, output_);
}

void TimeMix6::train_forward(const Tensor& x, TrainPass& p, Tape& t) const {
  const int64_t R = p.rows, D = c_.width, A = att_width(), H = c_.heads, N = c_.head_size;
  t.saved.assign(kCheckpoints + p.segments.size() + 1, Tensor());
  const size_t kInput = kCheckpoints + p.segments.size();  // x itself, last
  t.at(kInput) = x;
  auto get = [&](int e, const Shape& shape) -> Tensor& {
    Tensor& s = t.at(size_t(e));
    if (!s.defined()) s = Tensor::empty(DType::F32, shape);
    return s;
  };
  token_shift(x, get(kShifted, {R, D}), p.segments, shift_);
  auto lin = [&](const Tensor& in, const Tensor& W, const Tensor* bias, Tensor& out) { train_linear(in, W, bias, out, p); };
  std::vector<int64_t> positions;
  if (c_.rope_theta > 0) positions = train_positions(p, describe());
  compute_inputs(x, t.at(kShifted), positions, get, lin);
  Tensor& y = get(kY, {R, A});
  for (size_t s = 0; s < p.segments.size(); ++s) {
    const Segment& sg = p.segments[s];
    auto part = [&](int e) { return t.at(size_t(e)).rows(sg.row0, sg.rows); };
    Tensor ys = part(kY);
    Tensor& ck = t.at(kCheckpoints + s) =
        Tensor::empty(DType::F32, {(sg.rows + ops::kWkv7Checkpoint - 1) / ops::kWkv7Checkpoint, H, N, N});
    ops::gla_forward_checkpointed({part(kRs), part(kW), part(kKBal), part(kV)}, sg.state->at(state_), ys, ck);
  }
  Tensor& o = get(kO, {R, A});
  ops::mul(y, t.at(kG), o);
  train_emit(o, output_, nullptr, p);
}

void TimeMix6::backward(const Tensor& d_out, TrainPass& p, const Tape& t, Tensor& dx) const {
  using ops::Act;
  const int64_t R = p.rows, D = c_.width, A = att_width(), N = c_.head_size, H = c_.heads;
  const int64_t Rs = c_.rank_shift;
  const Tensor& x = t.at(kCheckpoints + p.segments.size());
  Gradients& g = *p.grads;
  auto at = [&](int e) -> const Tensor& { return t.at(size_t(e)); };
  // out = (y * g) Wo^T
  Tensor d_o = zeros_f32(R, A);
  linear_backward(at(kO), output_, nullptr, d_out, p, &d_o);
  Tensor dy = zeros_f32(R, A), dg = zeros_f32(R, A);
  ops::mul(d_o, at(kG), dy);
  ops::mul(d_o, at(kY), dg);
  // The recurrence, per sequence.
  Tensor drs = zeros_f32(R, A), dw = zeros_f32(R, A), dkb = zeros_f32(R, A), dv = zeros_f32(R, A);
  for (size_t s = 0; s < p.segments.size(); ++s) {
    const Segment& sg = p.segments[s];
    auto part = [&](const Tensor& e) { return e.rows(sg.row0, sg.rows); };
    Tensor gr = part(drs), gw = part(dw), gk = part(dkb), gv = part(dv);
    Tensor d_state = Tensor::zeros(DType::F32, {H, N, N});
    ops::gla_backward({part(at(kRs)), part(at(kW)), part(at(kKBal)), part(at(kV))}, t.at(kCheckpoints + s), part(dy),
                      {gr, gw, gk, gv}, d_state);
    if (p.d_initial) ops::add(p.d_initial->at(state_), d_state, p.d_initial->at(state_));
  }
  // r_s = r N^-1/2; k_bal = k (1 - w); w = exp(max(-exp(d_pre), -5)).
  Tensor dr = zeros_f32(R, A), dk = zeros_f32(R, A), dd = zeros_f32(R, A);
  {
    const float scale = 1.0f / std::sqrt(float(N));
    const float *pdr = drs.data<float>(), *pdk = dkb.data<float>(), *pk = at(kKRaw).data<float>();
    const float *pw = at(kW).data<float>(), *pd = at(kDPre).data<float>();
    float *odr = dr.data<float>(), *odk = dk.data<float>(), *odd = dd.data<float>(), *gw = dw.data<float>();
    for (int64_t j = 0; j < R * A; ++j) {
      odr[j] = pdr[j] * scale;
      odk[j] = pdk[j] * (1.0f - pw[j]);
      const float d_w = gw[j] - pdk[j] * pk[j];
      const float e = std::exp(pd[j]);
      // log w = -e where -e > -5 (the clamp passes no gradient); w = exp(log w)
      odd[j] = -e > -5.0f ? d_w * pw[j] * -e : 0.0f;
    }
  }
  Tensor d_x[kBranches];
  for (Tensor& d_branch : d_x) d_branch = zeros_f32(R, D);
  // The decay's LoRA.
  {
    Tensor d_ld = zeros_f32(R, c_.rank_decay), d_ld_pre = zeros_f32(R, c_.rank_decay);
    linear_backward(at(kLd), decay_w2_, &decay_, dd, p, &d_ld);
    ops::activation_backward(Act::Tanh, at(kLdPre), d_ld, d_ld_pre);
    linear_backward(at(kX0 + kBw), decay_w1_, nullptr, d_ld_pre, p, &d_x[kBw]);
  }
  // The gate.
  {
    Tensor dg_pre = zeros_f32(R, A);
    ops::activation_backward(Act::Sigmoid, at(kGPre), dg, dg_pre);
    linear_backward(at(kX0 + kBg), gate_, nullptr, dg_pre, p, &d_x[kBg]);
  }
  // r, k, v: back through the repetition of KV heads and the rotations.
  std::vector<int64_t> positions;
  if (c_.rope_theta > 0) positions = train_positions(p, describe());
  Tensor dk_kv, dv_kv;
  teacher_heads_backward({H, c_.kv_heads, N, c_.rope_theta}, positions, dr, dk, dv, dk_kv, dv_kv);
  linear_backward(at(kX0 + kBr), receptance_, &r_bias_, dr, p, &d_x[kBr]);
  linear_backward(at(kX0 + kBk), key_, &k_bias_, dk_kv, p, &d_x[kBk]);
  linear_backward(at(kX0 + kBv), value_, &v_bias_, dv_kv, p, &d_x[kBv]);
  // The token shift: x_i = lerp(x, shifted, maa_i + m_i W2_i), m = tanh(lerp(x, shifted, maa_x) W1).
  const Tensor& shifted = at(kShifted);
  Tensor d_shifted = zeros_f32(R, D), d_m = zeros_f32(R, kBranches * Rs);
  Tensor* g_w2 = g.of(maa_w2_);
  for (int i = 0; i < kBranches; ++i) {
    Tensor d_mix = zeros_f32(R, D);
    ops::lerp_backward(x, shifted, at(kMix0 + i), d_x[i], &dx, &d_shifted, &d_mix);
    if (Tensor* g_maa = g.of(maa_[i])) {
      float* pg = g_maa->data<float>();
      const float* pm = d_mix.data<float>();
      for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < D; ++j) pg[j] += pm[r * D + j];
    }
    if (g_w2) {
      Tensor gw2 = w2_of(*g_w2, i);
      ops::matmul(at(kM0 + i), true, d_mix, false, gw2, /*accumulate=*/true);
    }
    Tensor d_mi = zeros_f32(R, Rs);
    ops::matmul(d_mix, false, w2_of(maa_w2_, i), true, d_mi);
    for (int64_t r = 0; r < R; ++r)
      std::memcpy(d_m.data<float>() + r * kBranches * Rs + i * Rs, d_mi.data<float>() + r * Rs, size_t(Rs) * sizeof(float));
  }
  Tensor d_m_pre = zeros_f32(R, kBranches * Rs), d_xxx = zeros_f32(R, D);
  ops::activation_backward(Act::Tanh, at(kMPre), d_m, d_m_pre);
  linear_backward(at(kXxx), maa_w1_, nullptr, d_m_pre, p, &d_xxx);
  ops::lerp_backward(x, shifted, maa_x_, d_xxx, &dx, &d_shifted, g.of(maa_x_));
  token_shift_backward(d_shifted, dx, p, shift_);
}

}  // namespace gander::models
