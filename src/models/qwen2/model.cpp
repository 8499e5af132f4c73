#include "models/qwen2/model.h"

#include <algorithm>
#include <numeric>

#include "models/batch_plan.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/norm.h"
#include "ops/rope.h"
#include "ops/tiles.h"

namespace gander::qwen2 {

Model::Model(Weights w, ForwardOptions opt) : w_(std::move(w)), opt_(opt), fingerprint_(w_.fingerprint()) {
  // The large bf16 and f32 matrices move into tiles, read by both the decode and the prefill kernels. A
  // tied embedding is tiled once and serves both the lookup and the head.
  for (LayerWeights& L : w_.layers)
    for (Tensor* m : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) ops::tile_if_supported(*m);
  // (The embedding lets go of the shared matrix first, so that the head is its sole owner and the
  // row-major copy is given back while tiling: never two copies of the largest matrix.)
  const bool tied = w_.config.tied_embeddings;
  if (tied) w_.embed = Tensor();
  ops::tile_if_supported(w_.lm_head);
  if (tied) w_.embed = w_.lm_head;
}

void Model::run_rows(std::span<const int32_t> ids, std::span<const Segment> segs, Tensor* logits, bool all_logits,
                     Trace* trace) {
  const Config& c = w_.config;
  const int64_t T = int64_t(ids.size()), D = c.hidden, H = c.n_head, Hkv = c.n_kv_head, hd = c.head_dim;
  // Each row's position in its own sequence; the caches grow to take the new rows.
  std::vector<int64_t> positions;
  std::vector<int64_t> pos0;
  for (const Segment& sg : segs) {
    pos0.push_back(sg.cache->length);
    sg.cache->reserve(c, sg.cache->length + sg.rows);
    for (int64_t i = 0; i < sg.rows; ++i) positions.push_back(sg.cache->length + i);
  }
  const bool one = segs.size() == 1;
  Tensor h = Tensor::empty(DType::F32, {T, D}), x = Tensor::empty(DType::F32, {T, D});
  Tensor q = Tensor::empty(DType::F32, {T, H, hd}), att = Tensor::empty(DType::F32, {T, H, hd});
  Tensor o = Tensor::empty(DType::F32, {T, D});
  Tensor gate = Tensor::empty(DType::F32, {T, c.intermediate}), up = Tensor::empty(DType::F32, {T, c.intermediate});
  // Several sequences: the new keys and values are formed together, then copied into each cache.
  Tensor k_new = one ? Tensor() : Tensor::empty(DType::F32, {T, Hkv, hd});
  Tensor v_new = one ? Tensor() : Tensor::empty(DType::F32, {T, Hkv, hd});
  ops::embedding(w_.embed, ids, h);
  if (trace) trace->hidden.push_back(h.clone());
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = w_.layers[size_t(l)];
    ops::rms_norm(h, L.input_norm, c.rms_eps, x);
    Tensor k = one ? segs[0].cache->k[size_t(l)].rows(pos0[0], T) : k_new;
    Tensor v = one ? segs[0].cache->v[size_t(l)].rows(pos0[0], T) : v_new;
    Tensor q2 = q.reshape({T, H * hd}), k2 = k.reshape({T, Hkv * hd}), v2 = v.reshape({T, Hkv * hd});
    const ops::LinearJob qkv[] = {{x, L.q, &L.q_bias, q2}, {x, L.k, &L.k_bias, k2}, {x, L.v, &L.v_bias, v2}};
    ops::linear_group(qkv, opt_.precision);
    ops::rope(q, positions, c.rope_theta, q);
    ops::rope(k, positions, c.rope_theta, k);
    for (size_t i = 0; i < segs.size(); ++i) {
      const Segment& sg = segs[i];
      KvCache& cache = *sg.cache;
      if (!one) {
        Tensor kd = cache.k[size_t(l)].rows(pos0[i], sg.rows), vd = cache.v[size_t(l)].rows(pos0[i], sg.rows);
        kd.copy_from(k.rows(sg.row0, sg.rows));
        vd.copy_from(v.rows(sg.row0, sg.rows));
      }
      Tensor att_s = att.rows(sg.row0, sg.rows);
      ops::attention(q.rows(sg.row0, sg.rows), cache.k[size_t(l)].rows(0, pos0[i] + sg.rows),
                     cache.v[size_t(l)].rows(0, pos0[i] + sg.rows), pos0[i], att_s);
    }
    const Tensor att2 = att.reshape({T, H * hd});
    if (trace) {
      ops::linear(att2, L.o, nullptr, o, opt_.precision);
      trace->attn_output.push_back(o.clone());
      ops::add(h, o, h);
    } else {
      ops::linear({.x = att2, .W = L.o, .bias = nullptr, .out = h, .accumulate = true}, opt_.precision);
    }
    ops::rms_norm(h, L.post_attn_norm, c.rms_eps, x);
    const ops::LinearJob mlp[] = {{x, L.gate, nullptr, gate, ops::Act::Silu}, {x, L.up, nullptr, up}};
    ops::linear_group(mlp, opt_.precision);
    ops::mul(gate, up, gate);
    ops::linear({.x = gate, .W = L.down, .bias = nullptr, .out = h, .accumulate = true}, opt_.precision);
    if (trace && l + 1 < c.n_layer) trace->hidden.push_back(h.clone());
  }
  for (size_t i = 0; i < segs.size(); ++i) segs[i].cache->length = pos0[i] + segs[i].rows;
  Tensor rows;
  if (all_logits || trace) {
    rows = h;
  } else {  // each sequence's last row
    rows = Tensor::empty(DType::F32, {int64_t(segs.size()), D});
    for (size_t i = 0; i < segs.size(); ++i)
      rows.rows(int64_t(i), 1).copy_from(h.rows(segs[i].row0 + segs[i].rows - 1, 1));
  }
  Tensor normed = Tensor::empty(DType::F32, rows.shape());
  ops::rms_norm(rows, w_.final_norm, c.rms_eps, normed);
  if (trace) trace->hidden.push_back(normed.clone());
  if (logits) ops::linear(normed, w_.lm_head, nullptr, *logits, opt_.precision);
}

void Model::check_input(std::span<const int32_t> ids, const KvCache& cache) const {
  const Config& c = w_.config;
  GANDER_CHECK(!ids.empty(), "forward: no tokens to process");
  GANDER_CHECK(cache.k.size() == size_t(c.n_layer), "forward: the KV cache does not belong to this model");
  for (int32_t id : ids)
    GANDER_CHECK(id >= 0 && id < c.vocab, "token id ", id, " is out of range for this model's vocabulary of ", c.vocab);
}

void Model::forward(std::span<const int32_t> ids, KvCache& cache, Tensor& logits, bool all_logits) {
  const Config& c = w_.config;
  check_input(ids, cache);
  const int64_t T = int64_t(ids.size());
  const Shape want = all_logits ? Shape{T, c.vocab} : Shape{1, c.vocab};
  if (!logits.defined() || logits.shape() != want) logits = Tensor::empty(DType::F32, want);
  const int64_t chunk = std::max<int64_t>(1, opt_.chunk);
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t n = std::min(chunk, T - t0);
    Tensor part = all_logits ? logits.rows(t0, n) : logits;
    const Segment seg{0, n, &cache};
    run_rows(ids.subspan(size_t(t0), size_t(n)), {&seg, 1}, all_logits || t0 + n == T ? &part : nullptr, all_logits,
             nullptr);
  }
}

void Model::forward_batch(std::span<const SequenceInput> seqs, Tensor& logits, bool all_logits) {
  const Config& c = w_.config;
  GANDER_CHECK(!seqs.empty(), "forward_batch: no sequences");
  int64_t total = 0;
  for (const SequenceInput& q : seqs) {
    GANDER_CHECK(q.cache, "forward_batch: a sequence without a KV cache");
    check_input(q.ids, *q.cache);
    for (const SequenceInput& o : seqs)
      GANDER_CHECK(&o == &q || o.cache != q.cache, "forward_batch: one KV cache given for two sequences");
    total += int64_t(q.ids.size());
  }
  const Shape want = all_logits ? Shape{total, c.vocab} : Shape{int64_t(seqs.size()), c.vocab};
  if (!logits.defined() || logits.shape() != want) logits = Tensor::empty(DType::F32, want);
  models::run_passes(
      seqs, std::max<int64_t>(1, opt_.chunk), all_logits, logits,
      [](int64_t row0, int64_t rows, const SequenceInput& q) { return Segment{row0, rows, q.cache}; },
      [&](const SequenceInput& q, Tensor& part) { forward(q.ids, *q.cache, part, all_logits); },
      [&](std::span<const int32_t> ids, std::span<const Segment> segs, Tensor& part) {
        run_rows(ids, segs, &part, all_logits, nullptr);
      });
}

void Model::forward_trace(std::span<const int32_t> ids, KvCache& cache, Tensor& logits, Trace& trace) {
  GANDER_CHECK(!ids.empty(), "forward: no tokens to process");
  for (int32_t id : ids) GANDER_CHECK(id >= 0 && id < w_.config.vocab, "token id ", id, " is out of range");
  logits = Tensor::empty(DType::F32, {int64_t(ids.size()), w_.config.vocab});
  trace = Trace{};
  const Segment seg{0, int64_t(ids.size()), &cache};
  run_rows(ids, {&seg, 1}, &logits, true, &trace);
}

}  // namespace gander::qwen2
