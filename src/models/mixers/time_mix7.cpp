#include "models/mixers/time_mix7.h"

#include <cmath>
#include <optional>
#include <tuple>

#include "ops/repeat_heads.h"
#include "ops/rope.h"
#include "ops/wkv7.h"

namespace gander::models {

namespace {
// Scratch slots, shared by every time mix of a model (they run one after the other).
enum Slot { kShifted, kR, kW, kK, kV, kA, kG, kKappa, kB, kY, kVFirst, kLoraW, kLoraA, kLoraG, kLoraV, kKeyKv, kValueKv, kSlots };
const char* const kSlotNames[kSlots] = {
    "rwkv7.shifted",   "time_mix7.r",      "time_mix7.w",      "time_mix7.k",       "time_mix7.v",
    "time_mix7.a",     "time_mix7.g",      "time_mix7.kappa",  "time_mix7.b",       "time_mix7.y",
    "time_mix7.v_first", "time_mix7.lora_w", "time_mix7.lora_a", "time_mix7.lora_g", "time_mix7.lora_v",
    "time_mix7.k_kv",  "time_mix7.v_kv"};

// The official RWKV-7 init of a training run from scratch (spec §5.1, RWKV-LM train_temp at HEAD),
// as per-channel vectors of layer l of L over C channels in heads of N.
struct GooseInit {
  int64_t l, L, C, N;
  double r0() const { return L > 1 ? double(l) / double(L - 1) : 0.0; }  // the official code divides by zero at L = 1
  double r1() const { return 1.0 - double(l) / double(L); }
  double ddd(int64_t n) const { return double(n) / double(C); }
  double linear(int64_t n) const { return double(n) / double(C - 1) - 0.5; }
  double zig(int64_t n) const {
    const double half = double(N - 1) / 2, z = (double(n % N) - half) / half;
    return z * std::abs(z);
  }
  template <class F>
  Init values(F f) const {
    std::vector<float> v(static_cast<size_t>(C));
    for (int64_t n = 0; n < C; ++n) v[size_t(n)] = float(f(n));
    return Init::of_values(std::move(v));
  }
  Init mix(double p) const {  // x_r, x_w, ...: 1 - ddd^(p r1)
    return values([&](int64_t n) { return 1.0 - std::pow(ddd(n), p * r1()); });
  }
};
}  // namespace

struct TimeMix7::Buffers {
  Tensor r, w, k, v, a, g, kappa, b, y, v_first;
};

TimeMix7::TimeMix7(TimeMix7Config c) : c_(c) {
  GANDER_CHECK(c_.heads > 0 && c_.kv_heads > 0 && c_.heads % c_.kv_heads == 0, "time mix: ", c_.heads,
               " heads cannot share ", c_.kv_heads, " KV heads");
  GANDER_CHECK(c_.form != TimeMix7Config::Form::Goose || (c_.kv_heads == c_.heads && c_.rope_theta == 0),
               "time mix: the Goose form has neither grouped KV heads nor RoPE");
  for (const char* name : kSlotNames) slot_.push_back(scratch_slot(name));
}

std::string TimeMix7::describe() const {
  const char* form = c_.form == TimeMix7Config::Form::Goose        ? "RWKV-7 time mix"
                     : c_.form == TimeMix7Config::Form::RadDefault ? "RAD-RWKV7 time mix (GroupNorm form)"
                                                                   : "RAD-RWKV7 time mix (balanced form)";
  std::string s = concat(form, " (", c_.heads, " heads x ", c_.head_size);
  if (c_.kv_heads != c_.heads) s += concat(", ", c_.kv_heads, " KV heads");
  if (c_.rope_theta > 0) s += concat(", RoPE ", c_.rope_theta);
  return s + ")";
}

void TimeMix7::declare(ParamDecl& d) {
  const int64_t D = c_.width, A = att_width(), KV = kv_width(), H = c_.heads, N = c_.head_size;
  const bool rad = c_.form != TimeMix7Config::Form::Goose, later = c_.layer > 0;
  const float s = 1.0f / std::sqrt(float(D));
  const Shape row_d{1, 1, D}, row{1, 1, A};
  // The fresh inits: Goose's are the official ones of a training run from scratch; the RADLADS
  // forms' are the RADLADS code's (spec radlads.md §3.5), given where they differ from Goose's as
  // `rad_fresh` (their r/k/v/o and biases come from the teacher, so those keep the random init).
  const GooseInit gi{c_.layer, c_.layers, A, N};
  const bool goose = !rad;
  auto fresh = [&](Param& p, Init init, std::optional<Init> rad_fresh = std::nullopt) {
    if (goose) p.fresh = std::move(init);
    else if (rad_fresh) p.fresh = std::move(*rad_fresh);
  };
  if (c_.token_shift())
    for (auto [slot, n, pw] : {std::tuple{&x_r_, "r", 0.2}, {&x_w_, "w", 0.9}, {&x_k_, "k", 0.7}, {&x_v_, "v", 0.7},
                               {&x_a_, "a", 0.9}, {&x_g_, "g", 0.2}}) {
      const std::string name = concat("x_", n);
      fresh(d.add(slot, {D}, Kind::Vector, Init::uniform(0, 1), {{{"att." + name, row_d}, {"attn." + name, row_d}, {}}}),
            gi.mix(pw));
    }
  // A [A] vector that RWKV-LM and RADLADS store as [1, 1, A] and fla as the bias of its LoRA.
  auto lora_bias = [&](Tensor* slot, const char* n, const char* fla, Init init) -> Param& {
    return d.add(slot, {A}, Kind::Vector, init, {{{concat("att.", n), row}, {fla}, {concat("self_attn.", n), row}}});
  };
  fresh(lora_bias(&w0_, "w0", "attn.w_lora.lora.2.bias", Init::uniform(-6, 0)),
        gi.values([&](int64_t n) {
          return -6.0 + 6.0 * std::pow(double(n) / double(A - 1), 1.0 + std::pow(gi.r0(), 0.3)) + 0.5 +
                 2.5 * gi.zig(n);
        }),
        // RADLADS: -7 + 5 (n / (A-1))^(0.85 + sqrt(l / (L-1))), +0.5 for the softplus form's -0.5.
        gi.values([&](int64_t n) {
          return -7.0 + 5.0 * std::pow(double(n) / double(A - 1), 0.85 + std::sqrt(gi.r0())) + 0.5;
        }));
  fresh(lora_bias(&a0_, "a0", "attn.a_lora.lora.2.bias", Init::uniform(-1, 1)),
        gi.values([&](int64_t n) { return -0.19 + 0.3 * gi.zig(n) + 0.4 * gi.linear(n); }), Init::constant(0));
  if (later)
    fresh(lora_bias(&v0_, "v0", "attn.v_lora.lora.2.bias", Init::uniform(-1, 1)),
          gi.values([&](int64_t n) { return 0.73 - 0.4 * gi.linear(n); }), Init::constant(1));
  // A LoRA matrix, held [out, in]; RWKV-LM and RADLADS store [in, out] (used as x @ A), fla [out, in].
  // Fresh: the first zeros, the second orthogonal with gain 0.1 (official: ortho of [r, C], r < C).
  auto lora = [&](Tensor* slot, const char* n, const char* fla, int64_t in, int64_t out, float std) {
    const Init f = n[1] == '1' ? Init::constant(0) : Init::orthogonal(0.1f);  // (RADLADS' too)
    fresh(d.add(slot, {out, in}, Kind::Lora, Init::normal(std),
                {{{concat("att.", n), {in, out}, true}, {fla}, {concat("self_attn.", n), {in, out}, true}}}),
          f, f);
  };
  lora(&w1_, "w1", "attn.w_lora.lora.0.weight", D, c_.rank_w, s);
  lora(&w2_, "w2", "attn.w_lora.lora.2.weight", c_.rank_w, A, 0.1f);
  lora(&a1_, "a1", "attn.a_lora.lora.0.weight", D, c_.rank_a, s);
  lora(&a2_, "a2", "attn.a_lora.lora.2.weight", c_.rank_a, A, 0.1f);
  if (later) {
    lora(&v1_, "v1", "attn.v_lora.lora.0.weight", D, c_.rank_v, s);
    lora(&v2_, "v2", "attn.v_lora.lora.2.weight", c_.rank_v, A, 0.1f);
  } else {  // layer 0 has no value residual, but official files (and RADLADS') carry its LoRA
    for (const char* n : {"v0", "v1", "v2"}) d.ignore({{{concat("att.", n)}, {}, {concat("self_attn.", n)}}});
    for (const char* n : {"attn.v_lora.lora.0.weight", "attn.v_lora.lora.2.weight", "attn.v_lora.lora.2.bias"})
      d.ignore({{{}, {n}, {}}});
  }
  lora(&g1_, "g1", "attn.g_lora.lora.0.weight", D, c_.rank_g, s);
  lora(&g2_, "g2", "attn.g_lora.lora.2.weight", c_.rank_g, A, 0.1f);
  // (RAD-RWKV7 checkpoints carry k_k, k_a and r_k in every form, used or not.)
  fresh(d.add(&k_k_, {A}, Kind::Vector, Init::uniform(0.5f, 1.5f),
              {{{"att.k_k", row}, {"attn.k_k"}, {"self_attn.k_k", row}}}),
        gi.values([&](int64_t n) { return 0.71 - 0.1 * gi.linear(n); }), Init::constant(0.85f));
  fresh(d.add(&k_a_, {A}, Kind::Vector, Init::uniform(0.5f, 1.5f),
              {{{"att.k_a", row}, {"attn.k_a"}, {"self_attn.k_a", row}}}),
        Init::constant(1.02f), Init::constant(1));
  fresh(d.add(&r_k_, {A}, Kind::Vector, Init::uniform(-0.5f, 0.5f),
              {{{"att.r_k", {H, N}}, {"attn.r_k", {H, N}}, {"self_attn.r_k", {H, N}}}}),
        Init::constant(-0.04f), Init::constant(0));
  const Init matrix = Init::normal(s);
  fresh(d.add(&receptance_, {A, D}, Kind::Matrix, matrix,
              {{{"att.receptance.weight"}, {"attn.r_proj.weight"}, {"self_attn.q_proj.weight"}}}),
        official_orthogonal(A, D, 1.0f));
  fresh(d.add(&key_, {KV, D}, Kind::Matrix, matrix,
              {{{"att.key.weight"}, {"attn.k_proj.weight"}, {"self_attn.k_proj.weight"}}}),
        official_orthogonal(KV, D, 0.1f));
  fresh(d.add(&value_, {KV, D}, Kind::Matrix, matrix,
              {{{"att.value.weight"}, {"attn.v_proj.weight"}, {"self_attn.v_proj.weight"}}}),
        official_orthogonal(KV, D, 1.0f));
  fresh(d.add(&output_, {D, A}, Kind::Matrix, matrix,
              {{{"att.output.weight"}, {"attn.o_proj.weight"}, {"self_attn.o_proj.weight"}}}),
        Init::constant(0));
  if (rad) {
    const Init bias = Init::normal(0.02f);
    d.add(&r_bias_, {A}, Kind::Vector, bias, {{{}, {}, {"self_attn.q_proj.bias"}}});
    d.add(&k_bias_, {KV}, Kind::Vector, bias, {{{}, {}, {"self_attn.k_proj.bias"}}});
    d.add(&v_bias_, {KV}, Kind::Vector, bias, {{{}, {}, {"self_attn.v_proj.bias"}}});
  }
  if (c_.group_norm()) {
    fresh(d.add(&ln_x_w_, {A}, Kind::Vector, Init::uniform(0.5f, 1.0f),
                {{{"att.ln_x.weight"}, {"attn.g_norm.weight"}, {"self_attn.ln_x.weight"}}}),
          Init::constant(float(std::pow(double(c_.layer + 1) / double(c_.layers), 0.7))), Init::constant(1));
    fresh(d.add(&ln_x_b_, {A}, Kind::Vector, Init::uniform(-0.1f, 0.1f),
                {{{"att.ln_x.bias"}, {"attn.g_norm.bias"}, {"self_attn.ln_x.bias"}}}),
          Init::constant(0), Init::constant(0));
  }
}

void TimeMix7::declare_state(StateDecl& s) {
  if (c_.token_shift()) shift_ = s.fixed("att_shift", {c_.width});
  wkv_ = s.fixed("wkv", {c_.heads, c_.head_size, c_.head_size}, /*tunable=*/true);
  if (c_.rope_theta > 0) s.uses_positions();
}

// r, w (decay pre-activation), k, v, a, g and the value residual, from the layer's input.
void TimeMix7::projections(const Tensor& x, const Pass& pass, Buffers& b) const {
  const int64_t T = pass.rows, D = c_.width, A = att_width(), KV = kv_width();
  const bool shift = c_.token_shift(), grouped = KV != A;
  Tensor shifted;
  if (shift) {
    shifted = pass.scratch(slot_[kShifted], {T, D});
    token_shift(x, shifted, pass.segments, shift_);
  }
  Tensor lw = pass.scratch(slot_[kLoraW], {T, c_.rank_w}), la = pass.scratch(slot_[kLoraA], {T, c_.rank_a});
  Tensor lg = pass.scratch(slot_[kLoraG], {T, c_.rank_g}), lv = pass.scratch(slot_[kLoraV], {T, std::max<int64_t>(c_.rank_v, 1)});
  Tensor k_kv = grouped ? pass.scratch(slot_[kKeyKv], {T, KV}) : b.k;
  Tensor v_kv = grouped ? pass.scratch(slot_[kValueKv], {T, KV}) : b.v;
  // The projections and the first LoRA matrices all read this token's input (Goose: its mixes
  // with the previous token, x_r, x_w, ..., formed as each product reads its input): one group.
  using ops::Act;
  auto job = [&](const Tensor& W, const Tensor* bias, Tensor& out, const Tensor& mix, std::optional<Act> act = {}) {
    return ops::LinearJob{.x = x, .W = W, .bias = bias, .out = out, .act = act, .mix_to = shift ? &shifted : nullptr,
                          .mix = shift ? &mix : nullptr};
  };
  const bool rad = !shift;
  std::vector<ops::LinearJob> first = {job(receptance_, rad ? &r_bias_ : nullptr, b.r, x_r_),
                                       job(key_, rad ? &k_bias_ : nullptr, k_kv, x_k_),
                                       job(value_, rad ? &v_bias_ : nullptr, v_kv, x_v_),
                                       job(w1_, nullptr, lw, x_w_, Act::Tanh),
                                       job(a1_, nullptr, la, x_a_),
                                       job(g1_, nullptr, lg, x_g_, Act::Sigmoid)};
  if (c_.layer > 0) first.push_back(job(v1_, nullptr, lv, x_v_));
  ops::linear_group(first, pass.precision);
  if (c_.rope_theta > 0) {  // the teacher's RoPE, on r per query head and on k per KV head
    const int64_t N = c_.head_size;
    Tensor r3 = b.r.reshape({T, c_.heads, N}), k3 = k_kv.reshape({T, c_.kv_heads, N});
    ops::rope(r3, pass.positions, c_.rope_theta, r3);
    ops::rope(k3, pass.positions, c_.rope_theta, k3);
  }
  if (grouped) {
    ops::repeat_heads(k_kv, c_.heads / c_.kv_heads, c_.head_size, b.k);
    ops::repeat_heads(v_kv, c_.heads / c_.kv_heads, c_.head_size, b.v);
  }
  Tensor nu = b.y;  // (y is free until the recurrence)
  std::vector<ops::LinearJob> second = {{lw, w2_, &w0_, b.w}, {la, a2_, &a0_, b.a, Act::Sigmoid}, {lg, g2_, nullptr, b.g}};
  if (c_.layer > 0) second.push_back({lv, v2_, &v0_, nu, Act::Sigmoid});
  ops::linear_group(second, pass.precision);
  if (c_.layer == 0) {
    b.v_first.copy_from(b.v);
    return;
  }
  // Value residual: v <- lerp(v, v_first, nu), with a per-element mix (nu is already sigmoid'ed).
  float* pv = b.v.data<float>();
  const float *pf = b.v_first.data<float>(), *pn = nu.data<float>();
#pragma omp parallel for simd schedule(static) if (T * A > 65536)
  for (int64_t j = 0; j < T * A; ++j) pv[j] += (pf[j] - pv[j]) * pn[j];
}

// The keys and decay in the recurrence's convention, the recurrence per sequence, and its output
// (normalised, bonus, gated) in b.y.
void TimeMix7::recurrence(const Pass& pass, Buffers& b) const {
  const int64_t N = c_.head_size;
  const bool goose_keys = c_.form != TimeMix7Config::Form::RadBalanced;
  ops::Wkv7Prepare prep{b.k, b.w, b.a, goose_keys ? &k_k_ : nullptr, goose_keys ? &k_a_ : nullptr, b.kappa, b.b,
                        goose_keys ? ops::Wkv7Keys::Goose : ops::Wkv7Keys::Balanced};
  ops::wkv7_prepare(prep, N);
  for (const Segment& sg : pass.segments) {  // each sequence's rows on its own state
    Tensor& S = sg.state->at(wkv_);
    if (pass.one_segment()) {
      ops::wkv7({b.r, b.w, b.k, b.v, b.kappa, b.b}, S, b.y);
      break;
    }
    auto part = [&](const Tensor& t) { return t.rows(sg.row0, sg.rows); };
    Tensor ys = part(b.y);
    ops::wkv7({part(b.r), part(b.w), part(b.k), part(b.v), part(b.kappa), part(b.b)}, S, ys);
  }
  const bool gn = c_.group_norm();
  ops::wkv7_output({b.y, b.r, b.k, b.v, b.g, gn ? &ln_x_w_ : nullptr, gn ? &ln_x_b_ : nullptr,
                    c_.form == TimeMix7Config::Form::Goose ? &r_k_ : nullptr, c_.group_norm_eps,
                    1.0f / std::sqrt(float(N))},
                   N, b.y);
}

void TimeMix7::forward(const Tensor& x, const Pass& pass) const {
  const int64_t T = pass.rows, A = att_width();
  auto buf = [&](Slot s) { return pass.scratch(slot_[s], {T, A}); };
  Buffers b{buf(kR), buf(kW), buf(kK), buf(kV), buf(kA), buf(kG), buf(kKappa), buf(kB), buf(kY), buf(kVFirst)};
  projections(x, pass, b);
  recurrence(pass, b);
  pass.emit(b.y, output_);
}

}  // namespace gander::models
