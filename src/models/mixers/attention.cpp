#include "models/mixers/attention.h"

#include "ops/attention.h"
#include "ops/attention_backward.h"
#include "ops/rope.h"

namespace gander::models {

Attention::Attention(AttentionConfig c)
    : c_(c),
      q_slot_(scratch_slot("attention.q")),
      att_slot_(scratch_slot("attention.out")),
      k_slot_(scratch_slot("attention.k")),
      v_slot_(scratch_slot("attention.v")) {}

std::string Attention::describe() const {
  return concat("attention (", c_.heads, " heads, ", c_.kv_heads, " KV heads, ", c_.head_dim, " dims, RoPE ",
                c_.rope_theta, ")");
}

void Attention::declare(ParamDecl& d) {
  const int64_t D = c_.width, Q = c_.heads * c_.head_dim, KV = c_.kv_heads * c_.head_dim;
  const Init init = Init::normal(0.02f);
  d.add(&q_, {Q, D}, Kind::Matrix, init, {{{}, {}, {"self_attn.q_proj.weight"}}});
  d.add(&k_, {KV, D}, Kind::Matrix, init, {{{}, {}, {"self_attn.k_proj.weight"}}});
  d.add(&v_, {KV, D}, Kind::Matrix, init, {{{}, {}, {"self_attn.v_proj.weight"}}});
  d.add(&o_, {D, Q}, Kind::Matrix, init, {{{}, {}, {"self_attn.o_proj.weight"}}});
  if (!c_.qkv_bias) return;
  // From scratch, as transformers initialises nn.Linear in Qwen2: weights N(0, 0.02), biases 0.
  d.add(&q_bias_, {Q}, Kind::Vector, init, {{{}, {}, {"self_attn.q_proj.bias"}}}).fresh = Init::constant(0);
  d.add(&k_bias_, {KV}, Kind::Vector, init, {{{}, {}, {"self_attn.k_proj.bias"}}}).fresh = Init::constant(0);
  d.add(&v_bias_, {KV}, Kind::Vector, init, {{{}, {}, {"self_attn.v_proj.bias"}}}).fresh = Init::constant(0);
}

void Attention::declare_state(StateDecl& s) {
  cache_k_ = s.growing("k", {c_.kv_heads, c_.head_dim});
  cache_v_ = s.growing("v", {c_.kv_heads, c_.head_dim});
}

double Attention::extra_flops(int64_t n) const {
  return 4.0 * double(c_.heads * c_.head_dim) * double(n) * double(n + 1) / 2;  // scores and their use, causal
}

void Attention::forward(const Tensor& x, const Pass& pass) const {
  const int64_t T = pass.rows, H = c_.heads, Hkv = c_.kv_heads, hd = c_.head_dim;
  const bool one = pass.one_segment();
  Tensor q = pass.scratch(q_slot_, {T, H, hd}), att = pass.scratch(att_slot_, {T, H, hd});
  // One sequence: the new keys and values are written straight into its cache; several: formed
  // together, then copied into each cache.
  const Segment& s0 = pass.segments[0];
  Tensor k = one ? s0.state->at(cache_k_).rows(s0.state->length(), T) : pass.scratch(k_slot_, {T, Hkv, hd});
  Tensor v = one ? s0.state->at(cache_v_).rows(s0.state->length(), T) : pass.scratch(v_slot_, {T, Hkv, hd});
  Tensor q2 = q.reshape({T, H * hd}), k2 = k.reshape({T, Hkv * hd}), v2 = v.reshape({T, Hkv * hd});
  const Tensor* qb = c_.qkv_bias ? &q_bias_ : nullptr;
  const Tensor* kb = c_.qkv_bias ? &k_bias_ : nullptr;
  const Tensor* vb = c_.qkv_bias ? &v_bias_ : nullptr;
  const ops::LinearJob qkv[] = {{x, q_, qb, q2}, {x, k_, kb, k2}, {x, v_, vb, v2}};
  ops::linear_group(qkv, pass.precision);
  ops::rope(q, pass.positions, c_.rope_theta, q);
  ops::rope(k, pass.positions, c_.rope_theta, k);
  for (const Segment& sg : pass.segments) {
    SequenceState& st = *sg.state;
    const int64_t pos0 = st.length(), seen = pos0 + sg.rows;
    if (!one) {
      st.at(cache_k_).rows(pos0, sg.rows).copy_from(k.rows(sg.row0, sg.rows));
      st.at(cache_v_).rows(pos0, sg.rows).copy_from(v.rows(sg.row0, sg.rows));
    }
    Tensor att_s = att.rows(sg.row0, sg.rows);
    ops::attention(q.rows(sg.row0, sg.rows), st.at(cache_k_).rows(0, seen), st.at(cache_v_).rows(0, seen), pos0,
                   att_s);
  }
  pass.emit(att.reshape({T, H * hd}), o_);
}

// Training over whole sequences from position 0: the forward keeps q and k after RoPE, v, the
// attention output and its log-sum-exp rows; the backward recomputes the probabilities.
namespace {
enum Saved { kX, kQ, kK, kV, kAtt, kLse };
}  // namespace

void Attention::train_forward(const Tensor& x, TrainPass& p, Tape& t) const {
  const int64_t R = p.rows, H = c_.heads, Hkv = c_.kv_heads, hd = c_.head_dim;
  const std::vector<int64_t> pos = train_positions(p, describe());
  Tensor q = Tensor::empty(DType::F32, {R, H, hd}), k = Tensor::empty(DType::F32, {R, Hkv, hd});
  Tensor v = Tensor::empty(DType::F32, {R, Hkv, hd}), att = Tensor::empty(DType::F32, {R, H, hd});
  Tensor lse = Tensor::empty(DType::F32, {R, H});
  Tensor q2 = q.reshape({R, H * hd}), k2 = k.reshape({R, Hkv * hd}), v2 = v.reshape({R, Hkv * hd});
  train_linear(x, q_, c_.qkv_bias ? &q_bias_ : nullptr, q2, p);
  train_linear(x, k_, c_.qkv_bias ? &k_bias_ : nullptr, k2, p);
  train_linear(x, v_, c_.qkv_bias ? &v_bias_ : nullptr, v2, p);
  ops::rope(q, pos, c_.rope_theta, q);
  ops::rope(k, pos, c_.rope_theta, k);
  for (const Segment& sg : p.segments) {
    Tensor att_s = att.rows(sg.row0, sg.rows), lse_s = lse.rows(sg.row0, sg.rows);
    ops::attention_train(q.rows(sg.row0, sg.rows), k.rows(sg.row0, sg.rows), v.rows(sg.row0, sg.rows), att_s, lse_s);
  }
  train_emit(att.reshape({R, H * hd}), o_, nullptr, p);
  t.at(kX) = x, t.at(kQ) = q, t.at(kK) = k, t.at(kV) = v, t.at(kAtt) = att, t.at(kLse) = lse;
}

void Attention::backward(const Tensor& d_out, TrainPass& p, const Tape& t, Tensor& dx) const {
  const int64_t R = p.rows, H = c_.heads, Hkv = c_.kv_heads, hd = c_.head_dim;
  Tensor d_att = Tensor::zeros(DType::F32, {R, H * hd});
  linear_backward(t.at(kAtt).reshape({R, H * hd}), o_, nullptr, d_out, p, &d_att);
  Tensor dq = Tensor::zeros(DType::F32, {R, H, hd}), dk = Tensor::zeros(DType::F32, {R, Hkv, hd});
  Tensor dv = Tensor::zeros(DType::F32, {R, Hkv, hd});
  const Tensor d_att3 = d_att.reshape({R, H, hd});
  for (const Segment& sg : p.segments) {
    auto part = [&](const Tensor& e) { return e.rows(sg.row0, sg.rows); };
    Tensor dqs = part(dq), dks = part(dk), dvs = part(dv);
    ops::attention_backward(part(t.at(kQ)), part(t.at(kK)), part(t.at(kV)), part(t.at(kAtt)), part(t.at(kLse)),
                            part(d_att3), dqs, dks, dvs);
  }
  const std::vector<int64_t> pos = train_positions(p, describe());
  ops::rope_backward(dq, pos, c_.rope_theta, dq);
  ops::rope_backward(dk, pos, c_.rope_theta, dk);
  linear_backward(t.at(kX), q_, c_.qkv_bias ? &q_bias_ : nullptr, dq.reshape({R, H * hd}), p, &dx);
  linear_backward(t.at(kX), k_, c_.qkv_bias ? &k_bias_ : nullptr, dk.reshape({R, Hkv * hd}), p, &dx);
  linear_backward(t.at(kX), v_, c_.qkv_bias ? &v_bias_ : nullptr, dv.reshape({R, Hkv * hd}), p, &dx);
}

}  // namespace gander::models
