// The RWKV-7 time mix for training: forward and backward side by side, unfused (each product
// and element-wise step on its own, keeping what the backward needs), in the official trainer's
// order of operations (RWKV-LM RWKV-v7/train_temp/src/model.py), and the RADLADS forms (no token
// shift; the teacher's biases, RoPE on r and k, k and v repeated from the KV heads). The inference
// forward (time_mix7.cpp) fuses the same steps.
#include <cmath>
#include <optional>

#include "models/mixers/teacher_heads.h"
#include "models/mixers/time_mix7.h"
#include "ops/attention_backward.h"
#include "ops/backward.h"
#include "ops/matmul.h"
#include "ops/repeat_heads.h"
#include "ops/rope.h"
#include "ops/wkv7_backward.h"

namespace gander::models {

namespace {
// Tape entries; the WKV checkpoints of sequence s are at kCheckpoints + s.
enum Saved {
  kX, kShifted, kXr, kXw, kXk, kXv, kXa, kXg,
  kR, kKRaw, kVRaw, kLwPre, kLw, kDPre, kLa, kAPre, kA, kLgPre, kLg, kG, kLv, kNuPre, kNu, kV,
  kKTilde, kW, kAIn, kBIn, kY, kO, kCheckpoints
};
const char* const kVFirst = "time_mix7.v_first";

Tensor rows_f32(int64_t R, int64_t C) { return Tensor::empty(DType::F32, {R, C}); }
Tensor zeros_f32(int64_t R, int64_t C) { return Tensor::zeros(DType::F32, {R, C}); }

}  // namespace

void TimeMix7::train_forward(const Tensor& x, TrainPass& p, Tape& t) const {
  const int64_t R = p.rows, D = c_.width, A = att_width(), KV = kv_width(), N = c_.head_size, H = c_.heads;
  const bool shift = c_.token_shift(), rad = !shift, grouped = KV != A;
  using ops::Act;
  t.saved.assign(kCheckpoints + p.segments.size(), Tensor());  // (references into it stay valid)
  t.at(kX) = x;
  const std::pair<Saved, const Tensor*> mixes[] = {{kXr, &x_r_}, {kXw, &x_w_}, {kXk, &x_k_},
                                                   {kXv, &x_v_}, {kXa, &x_a_}, {kXg, &x_g_}};
  if (shift) {
    Tensor& shifted = t.at(kShifted) = rows_f32(R, D);
    token_shift(x, shifted, p.segments, shift_);
    for (auto [slot, mix] : mixes) ops::lerp(x, shifted, *mix, t.at(slot) = rows_f32(R, D));
  } else {
    for (auto [slot, mix] : mixes) t.at(slot) = x;  // every branch reads the input itself
  }
  auto product = [&](Saved in, const Tensor& W, const Tensor* bias, Saved out, int64_t width) -> Tensor& {
    Tensor& o = t.at(out) = rows_f32(R, width);
    train_linear(t.at(in), W, bias, o, p);
    return o;
  };
  auto activate = [&](Act a, Saved in, Saved out) {
    ops::activation(a, t.at(in), t.at(out) = rows_f32(R, t.at(in).dim(-1)));
  };
  product(kXr, receptance_, rad ? &r_bias_ : nullptr, kR, A);
  if (!grouped) {
    product(kXk, key_, rad ? &k_bias_ : nullptr, kKRaw, A);
    product(kXv, value_, rad ? &v_bias_ : nullptr, kVRaw, A);
  }
  if (rad) {  // the teacher's RoPE on r and on k per KV head, then k and v repeated to every head
    Tensor k_kv = grouped ? rows_f32(R, KV) : t.at(kKRaw), v_kv = grouped ? rows_f32(R, KV) : t.at(kVRaw);
    if (grouped) {
      train_linear(x, key_, &k_bias_, k_kv, p);
      train_linear(x, value_, &v_bias_, v_kv, p);
    }
    if (c_.rope_theta > 0) {
      const std::vector<int64_t> pos = train_positions(p, describe());
      Tensor r3 = t.at(kR).reshape({R, H, N}), k3 = k_kv.reshape({R, c_.kv_heads, N});
      ops::rope(r3, pos, c_.rope_theta, r3);
      ops::rope(k3, pos, c_.rope_theta, k3);
    }
    if (grouped) {
      ops::repeat_heads(k_kv, H / c_.kv_heads, N, t.at(kKRaw) = rows_f32(R, A));
      ops::repeat_heads(v_kv, H / c_.kv_heads, N, t.at(kVRaw) = rows_f32(R, A));
    }
  }
  product(kXw, w1_, nullptr, kLwPre, c_.rank_w);
  activate(Act::Tanh, kLwPre, kLw);
  product(kLw, w2_, &w0_, kDPre, A);
  product(kXa, a1_, nullptr, kLa, c_.rank_a);
  product(kLa, a2_, &a0_, kAPre, A);
  activate(Act::Sigmoid, kAPre, kA);
  product(kXg, g1_, nullptr, kLgPre, c_.rank_g);
  activate(Act::Sigmoid, kLgPre, kLg);
  product(kLg, g2_, nullptr, kG, A);
  if (c_.layer == 0) {
    t.at(kV) = t.at(kVRaw);
    p.carry[kVFirst] = t.at(kVRaw);
  } else {
    product(kXv, v1_, nullptr, kLv, c_.rank_v);
    product(kLv, v2_, &v0_, kNuPre, A);
    activate(Act::Sigmoid, kNuPre, kNu);
    ops::lerp(t.at(kVRaw), p.carry.at(kVFirst), t.at(kNu), t.at(kV) = rows_f32(R, A));
  }
  Tensor& kt = t.at(kKTilde) = t.at(kKRaw).clone();
  Tensor& w = t.at(kW) = t.at(kDPre).clone();
  const bool goose_keys = c_.form != TimeMix7Config::Form::RadBalanced;
  ops::Wkv7Prepare prep{kt, w, t.at(kA), goose_keys ? &k_k_ : nullptr, goose_keys ? &k_a_ : nullptr,
                        t.at(kAIn) = rows_f32(R, A), t.at(kBIn) = rows_f32(R, A),
                        goose_keys ? ops::Wkv7Keys::Goose : ops::Wkv7Keys::Balanced};
  ops::wkv7_prepare(prep, N);
  Tensor& y = t.at(kY) = rows_f32(R, A);
  for (size_t s = 0; s < p.segments.size(); ++s) {
    const Segment& sg = p.segments[s];
    auto part = [&](Saved e) { return t.at(e).rows(sg.row0, sg.rows); };
    Tensor ys = y.rows(sg.row0, sg.rows);
    Tensor& ck = t.at(kCheckpoints + s) =
        Tensor::empty(DType::F32, {(sg.rows + ops::kWkv7Checkpoint - 1) / ops::kWkv7Checkpoint, H, N, N});
    ops::wkv7_forward_checkpointed({part(kR), part(kW), part(kKTilde), part(kV), part(kAIn), part(kBIn)},
                                   sg.state->at(wkv_), ys, ck);
  }
  Tensor& o = t.at(kO) = rows_f32(R, A);
  ops::wkv7_output(output_args(y, t.at(kR), kt, t.at(kV), t.at(kG)), N, o);
  train_emit(o, output_, nullptr, p);
}

// The output op's arguments for this form (as recurrence() in time_mix7.cpp passes them).
ops::Wkv7Output TimeMix7::output_args(const Tensor& y, const Tensor& r, const Tensor& k, const Tensor& v,
                                      const Tensor& g) const {
  const bool gn = c_.group_norm();
  return {y, r, k, v, g, gn ? &ln_x_w_ : nullptr, gn ? &ln_x_b_ : nullptr,
          c_.form == TimeMix7Config::Form::Goose ? &r_k_ : nullptr, c_.group_norm_eps,
          1.0f / std::sqrt(float(c_.head_size))};
}

void TimeMix7::backward(const Tensor& d_out, TrainPass& p, const Tape& t, Tensor& dx) const {
  const int64_t R = p.rows, D = c_.width, A = att_width(), N = c_.head_size, H = c_.heads;
  const bool shift = c_.token_shift(), rad = !shift;
  const bool gn = c_.group_norm(), goose_keys = c_.form != TimeMix7Config::Form::RadBalanced;
  using ops::Act;
  Gradients& g = *p.grads;
  Tensor d_o = zeros_f32(R, A);
  linear_backward(t.at(kO), output_, nullptr, d_out, p, &d_o);
  Tensor dy = zeros_f32(R, A), dr = zeros_f32(R, A), dkt = zeros_f32(R, A), dv = zeros_f32(R, A),
         dg = zeros_f32(R, A);
  const bool bonus = c_.form == TimeMix7Config::Form::Goose;
  ops::wkv7_output_backward(output_args(t.at(kY), t.at(kR), t.at(kKTilde), t.at(kV), t.at(kG)), N, d_o,
                            {dy, dr, dkt, dv, dg, gn ? g.of(ln_x_w_) : nullptr, gn ? g.of(ln_x_b_) : nullptr,
                             bonus ? g.of(r_k_) : nullptr});
  Tensor dw = zeros_f32(R, A), da_in = zeros_f32(R, A), db_in = zeros_f32(R, A);
  for (size_t s = 0; s < p.segments.size(); ++s) {
    const Segment& sg = p.segments[s];
    auto part = [&](const Tensor& e) { return e.rows(sg.row0, sg.rows); };
    Tensor gr = part(dr), gw = part(dw), gk = part(dkt), gv = part(dv), ga = part(da_in), gb = part(db_in);
    Tensor d_state = Tensor::zeros(DType::F32, {H, N, N});
    ops::wkv7_backward({part(t.at(kR)), part(t.at(kW)), part(t.at(kKTilde)), part(t.at(kV)), part(t.at(kAIn)),
                        part(t.at(kBIn))},
                       t.at(kCheckpoints + s), part(dy), {gr, gw, gk, gv, ga, gb}, d_state);
    if (p.d_initial) ops::add(p.d_initial->at(wkv_), d_state, p.d_initial->at(wkv_));
  }
  Tensor dk = zeros_f32(R, A), dd = zeros_f32(R, A), da = zeros_f32(R, A);
  ops::wkv7_prepare_backward({t.at(kKRaw), t.at(kDPre), t.at(kA), goose_keys ? &k_k_ : nullptr,
                              goose_keys ? &k_a_ : nullptr, goose_keys ? ops::Wkv7Keys::Goose : ops::Wkv7Keys::Balanced,
                              dkt, dw, da_in, db_in, dk, dd, da, goose_keys ? g.of(k_k_) : nullptr,
                              goose_keys ? g.of(k_a_) : nullptr},
                             N);
  // Each branch's gradient at its mixed input, then through the mixes to x and the shifted x.
  Tensor d_mixed[6];
  for (Tensor& m : d_mixed) m = zeros_f32(R, D);
  enum { r, w, k, v, a, gg };
  Tensor dv_raw = zeros_f32(R, A);
  if (c_.layer == 0) {
    ops::add(dv, p.d_carried(kVFirst, {R, A}), dv_raw);
  } else {
    Tensor dnu = zeros_f32(R, A), dnu_pre = zeros_f32(R, A), dlv = zeros_f32(R, c_.rank_v);
    ops::lerp_backward(t.at(kVRaw), p.carry.at(kVFirst), t.at(kNu), dv, &dv_raw, &p.d_carried(kVFirst, {R, A}), &dnu);
    ops::activation_backward(Act::Sigmoid, t.at(kNuPre), dnu, dnu_pre);
    linear_backward(t.at(kLv), v2_, &v0_, dnu_pre, p, &dlv);
    linear_backward(t.at(kXv), v1_, nullptr, dlv, p, &d_mixed[v]);
  }
  auto lora = [&](Saved in, const Tensor& W1, Saved low, Saved low_pre, std::optional<Act> act, const Tensor& W2,
                  const Tensor* bias, const Tensor& d_high, Tensor& d_in) {
    const int64_t rank = W1.dim(0);
    Tensor d_low = zeros_f32(R, rank);
    linear_backward(t.at(low), W2, bias, d_high, p, &d_low);
    Tensor d_pre = d_low;
    if (act) {
      d_pre = zeros_f32(R, rank);
      ops::activation_backward(*act, t.at(low_pre), d_low, d_pre);
    }
    linear_backward(t.at(in), W1, nullptr, d_pre, p, &d_in);
  };
  lora(kXw, w1_, kLw, kLwPre, Act::Tanh, w2_, &w0_, dd, d_mixed[w]);
  Tensor da_pre = zeros_f32(R, A);
  ops::activation_backward(Act::Sigmoid, t.at(kAPre), da, da_pre);
  lora(kXa, a1_, kLa, kLa, std::nullopt, a2_, &a0_, da_pre, d_mixed[a]);
  lora(kXg, g1_, kLg, kLgPre, Act::Sigmoid, g2_, nullptr, dg, d_mixed[gg]);
  if (rad) {  // back through the repetition of KV heads and the rotations
    std::vector<int64_t> positions;
    if (c_.rope_theta > 0) positions = train_positions(p, describe());
    Tensor dk_kv, dv_kv;
    teacher_heads_backward({H, c_.kv_heads, N, c_.rope_theta}, positions, dr, dk, dv_raw, dk_kv, dv_kv);
    linear_backward(t.at(kX), receptance_, &r_bias_, dr, p, &dx);
    linear_backward(t.at(kX), key_, &k_bias_, dk_kv, p, &dx);
    linear_backward(t.at(kX), value_, &v_bias_, dv_kv, p, &dx);
    for (int m : {w, v, a, gg}) ops::add(dx, d_mixed[m], dx);  // the LoRAs read x itself too
    return;
  }
  linear_backward(t.at(kXr), receptance_, nullptr, dr, p, &d_mixed[r]);
  linear_backward(t.at(kXk), key_, nullptr, dk, p, &d_mixed[k]);
  linear_backward(t.at(kXv), value_, nullptr, dv_raw, p, &d_mixed[v]);
  Tensor d_shifted = zeros_f32(R, D);
  const Tensor* mixes[6] = {&x_r_, &x_w_, &x_k_, &x_v_, &x_a_, &x_g_};
  for (int m = 0; m < 6; ++m)
    ops::lerp_backward(t.at(kX), t.at(kShifted), *mixes[m], d_mixed[m], &dx, &d_shifted, g.of(*mixes[m]));
  token_shift_backward(d_shifted, dx, p, shift_);
}

}  // namespace gander::models
