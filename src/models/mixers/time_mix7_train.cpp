// The RWKV-7 time mix for training: forward and backward side by side, unfused (each product
// and element-wise step on its own, keeping what the backward needs), in the official trainer's
// order of operations (RWKV-LM RWKV-v7/train_temp/src/model.py). The Goose form only so far; the
// RADLADS forms come with RADLADS. The inference forward (time_mix7.cpp) fuses the same steps.
#include <cmath>
#include <optional>

#include "models/mixers/time_mix7.h"
#include "ops/backward.h"
#include "ops/matmul.h"
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
  GANDER_CHECK(c_.form == TimeMix7Config::Form::Goose, describe(), ": training is implemented for RWKV-7 (Goose) only");
  const int64_t R = p.rows, D = c_.width, A = att_width(), N = c_.head_size, H = c_.heads;
  using ops::Act;
  t.saved.assign(kCheckpoints + p.segments.size(), Tensor());  // (references into it stay valid)
  t.at(kX) = x;
  Tensor& shifted = t.at(kShifted) = rows_f32(R, D);
  token_shift(x, shifted, p.segments, shift_);
  const std::pair<Saved, const Tensor*> mixes[] = {{kXr, &x_r_}, {kXw, &x_w_}, {kXk, &x_k_},
                                                   {kXv, &x_v_}, {kXa, &x_a_}, {kXg, &x_g_}};
  for (auto [slot, mix] : mixes) ops::lerp(x, shifted, *mix, t.at(slot) = rows_f32(R, D));
  auto product = [&](Saved in, const Tensor& W, const Tensor* bias, Saved out, int64_t width) -> Tensor& {
    Tensor& o = t.at(out) = rows_f32(R, width);
    train_linear(t.at(in), W, bias, o, p);
    return o;
  };
  auto activate = [&](Act a, Saved in, Saved out) {
    ops::activation(a, t.at(in), t.at(out) = rows_f32(R, t.at(in).dim(-1)));
  };
  product(kXr, receptance_, nullptr, kR, A);
  product(kXk, key_, nullptr, kKRaw, A);
  product(kXv, value_, nullptr, kVRaw, A);
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
  ops::Wkv7Prepare prep{kt, w, t.at(kA), &k_k_, &k_a_, t.at(kAIn) = rows_f32(R, A), t.at(kBIn) = rows_f32(R, A),
                        ops::Wkv7Keys::Goose};
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
  ops::wkv7_output({y, t.at(kR), kt, t.at(kV), t.at(kG), &ln_x_w_, &ln_x_b_, &r_k_, c_.group_norm_eps}, N, o);
  train_emit(o, output_, nullptr, p);
}

void TimeMix7::backward(const Tensor& d_out, TrainPass& p, const Tape& t, Tensor& dx) const {
  const int64_t R = p.rows, D = c_.width, A = att_width(), N = c_.head_size, H = c_.heads;
  using ops::Act;
  Gradients& g = *p.grads;
  Tensor d_o = zeros_f32(R, A);
  linear_backward(t.at(kO), output_, nullptr, d_out, p, &d_o);
  Tensor dy = zeros_f32(R, A), dr = zeros_f32(R, A), dkt = zeros_f32(R, A), dv = zeros_f32(R, A),
         dg = zeros_f32(R, A);
  ops::wkv7_output_backward({t.at(kY), t.at(kR), t.at(kKTilde), t.at(kV), t.at(kG), &ln_x_w_, &ln_x_b_, &r_k_,
                             c_.group_norm_eps},
                            N, d_o, {dy, dr, dkt, dv, dg, g.of(ln_x_w_), g.of(ln_x_b_), g.of(r_k_)});
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
  ops::wkv7_prepare_backward({t.at(kKRaw), t.at(kDPre), t.at(kA), &k_k_, &k_a_, ops::Wkv7Keys::Goose, dkt, dw, da_in,
                              db_in, dk, dd, da, g.of(k_k_), g.of(k_a_)},
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
