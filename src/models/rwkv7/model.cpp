#include "models/rwkv7/model.h"

#include <algorithm>
#include <cmath>

#include "models/batch_plan.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/norm.h"
#include "ops/tiles.h"
#include "ops/wkv7.h"

namespace gander::rwkv7 {

// Activations for one chunk, allocated for the longest chunk and viewed at the current length.
struct Model::Scratch {
  int64_t capacity = 0;
  Tensor h, x, xx, r, w, k, v, a, g, kk, b, y, v_first, hid;
  Tensor lora_w, lora_a, lora_g, lora_v;  // LoRA hidden activations [T, rank]
  Tensor last;  // [rows, C]: the last token of each sequence, for their logits

  void ensure(const Config& c, int64_t T) {
    if (T <= capacity) return;
    capacity = T;
    const int64_t C = c.n_embd;
    for (Tensor* t : {&h, &x, &xx, &r, &w, &k, &v, &a, &g, &kk, &b, &y, &v_first})
      *t = Tensor::empty(DType::F32, {T, C});
    hid = Tensor::empty(DType::F32, {T, c.dim_ffn});
    lora_w = Tensor::empty(DType::F32, {T, c.rank_w});
    lora_a = Tensor::empty(DType::F32, {T, c.rank_a});
    lora_g = Tensor::empty(DType::F32, {T, c.rank_g});
    lora_v = Tensor::empty(DType::F32, {T, std::max<int64_t>(c.rank_v, 1)});
    last = Tensor::empty(DType::F32, {T, C});
  }
};

Model::Model(Weights weights, ForwardOptions options)
    : w_(std::move(weights)), opt_(options), fingerprint_(w_.fingerprint()), scratch_(std::make_shared<Scratch>()) {
  // The bf16 and f32 matrices move into tiles, read by both the decode and the prefill kernels
  // (after the fingerprint, which samples the checkpoint's row-major bytes). The LoRA matrices,
  // widened to f32 at load, go back to bf16 in a bf16 model: exact for a bf16 checkpoint, and
  // what --dtype bf16 asks for otherwise; they then stream half the bytes and run on the bf16
  // units in prefill.
  const DType dt = w_.matrix_dtype;
  if ((dt != DType::BF16 && dt != DType::F32) || !ops::tiles_supported()) return;
  for (LayerWeights& L : w_.layers) {
    for (Tensor* m : {&L.receptance, &L.key, &L.value, &L.output, &L.ffn_key, &L.ffn_value}) ops::tile_if_supported(*m);
    for (Tensor* m : {&L.w1, &L.w2, &L.a1, &L.a2, &L.v1, &L.v2, &L.g1, &L.g2})
      if (m->defined() && m->numel() > 0) *m = ops::tile_matrix(dt == DType::BF16 ? m->to(DType::BF16) : *m);
  }
  ops::tile_if_supported(w_.head);
}

namespace {
// The leading [T, width] of a scratch buffer.
Tensor view(const Tensor& t, int64_t T, int64_t width) { return t.prefix({T, width}); }

// Per segment: xx[t] = x[t-1], its first row the sequence's carried shift vector, which then
// becomes the segment's last x. `carried` picks the vector (attention's or the FFN's) of a state.
template <typename Carried>
void token_shift(const Tensor& x, Tensor& xx, std::span<const Model::Segment> segs, int64_t l, int64_t C,
                 Carried carried) {
  for (const auto& sg : segs) {
    const float* px = x.data<float>() + sg.row0 * C;
    float* pxx = xx.data<float>() + sg.row0 * C;
    float* pc = carried(*sg.state)[size_t(l)].template data<float>();
    std::copy(pc, pc + C, pxx);
    std::copy(px, px + (sg.rows - 1) * C, pxx + C);
    std::copy(px + (sg.rows - 1) * C, px + sg.rows * C, pc);
  }
}
std::vector<Tensor>& att_shift(State& s) { return s.att_shift; }
std::vector<Tensor>& ffn_shift(State& s) { return s.ffn_shift; }
}  // namespace

void Model::time_mix(int64_t l, Scratch& s, std::span<const Segment> segs, int64_t T) {
  const Config& c = w_.config;
  const LayerWeights& L = w_.layers[size_t(l)];
  const int64_t C = c.n_embd, N = kHeadSize;
  const ops::Precision p = opt_.precision;
  Tensor h = view(s.h, T, C), x = view(s.x, T, C), xx = view(s.xx, T, C);
  ops::layer_norm(h, L.ln1_w, L.ln1_b, kLayerNormEps, x);
  token_shift(x, xx, segs, l, C, att_shift);

  Tensor r = view(s.r, T, C), w = view(s.w, T, C), k = view(s.k, T, C), v = view(s.v, T, C);
  Tensor a = view(s.a, T, C), g = view(s.g, T, C), nu = view(s.y, T, C);
  Tensor lw = view(s.lora_w, T, c.rank_w), la = view(s.lora_a, T, c.rank_a), lg = view(s.lora_g, T, c.rank_g);
  Tensor lv = view(s.lora_v, T, std::max<int64_t>(c.rank_v, 1));
  // The projections and the first LoRA matrices (decay, in-context rate, gate, value residual)
  // all read this token's mixes with the previous one (x_r, x_w, ...), formed as each product
  // reads its input: one group.
  using ops::Act;
  auto from_mix = [&](const Tensor& W, Tensor& out, const Tensor& mix, std::optional<Act> act = {}) {
    return ops::LinearJob{.x = x, .W = W, .bias = nullptr, .out = out, .act = act, .mix_to = &xx, .mix = &mix};
  };
  std::vector<ops::LinearJob> first = {from_mix(L.receptance, r, L.x_r),   from_mix(L.key, k, L.x_k),
                                       from_mix(L.value, v, L.x_v),        from_mix(L.w1, lw, L.x_w, Act::Tanh),
                                       from_mix(L.a1, la, L.x_a),          from_mix(L.g1, lg, L.x_g, Act::Sigmoid)};
  if (l > 0) first.push_back(from_mix(L.v1, lv, L.x_v));
  ops::linear_group(first, p);
  std::vector<ops::LinearJob> second = {
      {lw, L.w2, &L.w0, w}, {la, L.a2, &L.a0, a, Act::Sigmoid}, {lg, L.g2, nullptr, g}};
  if (l > 0) second.push_back({lv, L.v2, &L.v0, nu, Act::Sigmoid});
  ops::linear_group(second, p);

  Tensor v_first = view(s.v_first, T, C);
  if (l == 0) {
    v_first.copy_from(v);
  } else {
    // Value residual: v <- lerp(v, v_first, nu), with a per-element mix (nu is already sigmoid'ed).
    float* pv = v.data<float>();
    const float *pf = v_first.data<float>(), *pn = nu.data<float>();
#pragma omp parallel for simd schedule(static) if (T * C > 65536)
    for (int64_t j = 0; j < T * C; ++j) pv[j] += (pf[j] - pv[j]) * pn[j];
  }

  Tensor kk = view(s.kk, T, C), b = view(s.b, T, C);
  ops::Wkv7Prepare prep{k, w, a, &L.k_k, &L.k_a, kk, b};
  ops::wkv7_prepare(prep, N);
  Tensor y = view(s.y, T, C);
  for (const Segment& sg : segs) {  // the recurrence walks each sequence's rows on its own state
    if (segs.size() == 1) {
      ops::wkv7({r, w, k, v, kk, b}, sg.state->wkv[size_t(l)], y);
      break;
    }
    Tensor ys = y.rows(sg.row0, sg.rows);
    ops::wkv7({r.rows(sg.row0, sg.rows), w.rows(sg.row0, sg.rows), k.rows(sg.row0, sg.rows), v.rows(sg.row0, sg.rows),
               kk.rows(sg.row0, sg.rows), b.rows(sg.row0, sg.rows)},
              sg.state->wkv[size_t(l)], ys);
  }
  ops::wkv7_output({y, r, k, v, g, &L.ln_x_w, &L.ln_x_b, &L.r_k, kGroupNormEps}, N, y);
  ops::linear({.x = y, .W = L.output, .bias = nullptr, .out = h, .accumulate = true}, p);  // residual
}

void Model::channel_mix(int64_t l, Scratch& s, std::span<const Segment> segs, int64_t T) {
  const Config& c = w_.config;
  const LayerWeights& L = w_.layers[size_t(l)];
  const int64_t C = c.n_embd;
  Tensor h = view(s.h, T, C), x = view(s.x, T, C), xx = view(s.xx, T, C);
  ops::layer_norm(h, L.ln2_w, L.ln2_b, kLayerNormEps, x);
  token_shift(x, xx, segs, l, C, ffn_shift);
  Tensor hid = view(s.hid, T, c.dim_ffn);
  ops::linear({.x = x, .W = L.ffn_key, .bias = nullptr, .out = hid, .act = ops::Act::ReluSquared, .mix_to = &xx,
               .mix = &L.ffn_x_k},
              opt_.precision);
  ops::linear({.x = hid, .W = L.ffn_value, .bias = nullptr, .out = h, .accumulate = true}, opt_.precision);
}

void Model::run_rows(std::span<const int32_t> ids, std::span<const Segment> segs, Tensor* logits, bool all_logits,
                     Tensor* hidden) {
  const Config& c = w_.config;
  const int64_t T = int64_t(ids.size()), C = c.n_embd, L = c.n_layer;
  Scratch& s = *scratch_;
  s.ensure(c, T);
  Tensor h = view(s.h, T, C);
  ops::embedding(w_.emb, ids, h);
  ops::layer_norm(h, w_.ln0_w, w_.ln0_b, kLayerNormEps, h);
  auto record = [&](int64_t slot) {
    if (!hidden) return;
    float* dst = hidden->data<float>();
    const float* src = h.data<float>();
    for (int64_t t = 0; t < T; ++t) std::copy(src + t * C, src + (t + 1) * C, dst + (t * (L + 1) + slot) * C);
  };
  record(0);
  for (int64_t l = 0; l < L; ++l) {
    time_mix(l, s, segs, T);
    channel_mix(l, s, segs, T);
    record(l + 1);
  }
  if (!logits) return;
  if (all_logits) {
    Tensor normed = view(s.x, T, C);
    ops::layer_norm(h, w_.ln_out_w, w_.ln_out_b, kLayerNormEps, normed);
    ops::linear(normed, w_.head, nullptr, *logits, opt_.precision);
    return;
  }
  // Each sequence's last row.
  const int64_t B = int64_t(segs.size());
  Tensor rows = view(s.y, B, C), normed = view(s.last, B, C);
  for (int64_t i = 0; i < B; ++i) rows.rows(i, 1).copy_from(h.rows(segs[size_t(i)].row0 + segs[size_t(i)].rows - 1, 1));
  ops::layer_norm(rows, w_.ln_out_w, w_.ln_out_b, kLayerNormEps, normed);
  ops::linear(normed, w_.head, nullptr, *logits, opt_.precision);
}

void Model::check_input(std::span<const int32_t> ids, const State& state) const {
  const Config& c = w_.config;
  GANDER_CHECK(!ids.empty(), "forward: no tokens to process");
  GANDER_CHECK(state.matches(c), "forward: the state does not match the model ", c.describe());
  for (int32_t id : ids)
    GANDER_CHECK(id >= 0 && id < c.vocab, "token id ", id, " is out of range for this model's vocabulary of ", c.vocab);
}

void Model::forward(std::span<const int32_t> ids, State& state, Tensor& logits, bool all_logits) {
  const Config& c = w_.config;
  check_input(ids, state);
  const int64_t T = int64_t(ids.size()), V = c.vocab;
  const Shape want = all_logits ? Shape{T, V} : Shape{1, V};
  if (!logits.defined() || logits.shape() != want) logits = Tensor::empty(DType::F32, want);
  const int64_t chunk = opt_.chunk_or_default();
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t n = std::min(chunk, T - t0);
    const bool last = t0 + n == T;
    const Segment seg{0, n, &state};
    if (all_logits) {
      Tensor part = logits.rows(t0, n);
      run_rows(ids.subspan(size_t(t0), size_t(n)), {&seg, 1}, &part, true, nullptr);
    } else {
      run_rows(ids.subspan(size_t(t0), size_t(n)), {&seg, 1}, last ? &logits : nullptr, false, nullptr);
    }
  }
}

void Model::forward_batch(std::span<const SequenceInput> seqs, Tensor& logits, bool all_logits) {
  const Config& c = w_.config;
  GANDER_CHECK(!seqs.empty(), "forward_batch: no sequences");
  int64_t total = 0;
  for (const SequenceInput& q : seqs) {
    GANDER_CHECK(q.state, "forward_batch: a sequence without a state");
    check_input(q.ids, *q.state);
    for (const SequenceInput& o : seqs)
      GANDER_CHECK(&o == &q || o.state != q.state, "forward_batch: one state given for two sequences");
    total += int64_t(q.ids.size());
  }
  const int64_t B = int64_t(seqs.size()), V = c.vocab;
  const Shape want = all_logits ? Shape{total, V} : Shape{B, V};
  if (!logits.defined() || logits.shape() != want) logits = Tensor::empty(DType::F32, want);
  models::run_passes(
      seqs, opt_.chunk_or_default(), all_logits, logits,
      [](int64_t row0, int64_t rows, const SequenceInput& q) { return Segment{row0, rows, q.state}; },
      [&](const SequenceInput& q, Tensor& part) { forward(q.ids, *q.state, part, all_logits); },
      [&](std::span<const int32_t> ids, std::span<const Segment> segs, Tensor& part) {
        run_rows(ids, segs, &part, all_logits, nullptr);
      });
}

void Model::forward_hidden(std::span<const int32_t> ids, State& state, Tensor& hidden) {
  const Config& c = w_.config;
  GANDER_CHECK(!ids.empty() && state.matches(c), "forward_hidden: empty input or mismatched state");
  hidden = Tensor::empty(DType::F32, {int64_t(ids.size()), c.n_layer + 1, c.n_embd});
  for (int32_t id : ids) GANDER_CHECK(id >= 0 && id < c.vocab, "token id ", id, " is out of range");
  const Segment seg{0, int64_t(ids.size()), &state};
  run_rows(ids, {&seg, 1}, nullptr, false, &hidden);
}

}  // namespace gander::rwkv7
