#include "models/qwen2/model.h"

#include <algorithm>
#include <numeric>

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

void Model::run_chunk(std::span<const int32_t> ids, KvCache& cache, Tensor* logits, bool all_logits, Trace* trace) {
  const Config& c = w_.config;
  const int64_t T = int64_t(ids.size()), D = c.hidden, H = c.n_head, Hkv = c.n_kv_head, hd = c.head_dim;
  const int64_t pos0 = cache.length;
  cache.reserve(c, pos0 + T);
  std::vector<int64_t> positions(static_cast<size_t>(T));
  std::iota(positions.begin(), positions.end(), pos0);
  Tensor h = Tensor::empty(DType::F32, {T, D}), x = Tensor::empty(DType::F32, {T, D});
  Tensor q = Tensor::empty(DType::F32, {T, H, hd}), att = Tensor::empty(DType::F32, {T, H, hd});
  Tensor o = Tensor::empty(DType::F32, {T, D});
  Tensor gate = Tensor::empty(DType::F32, {T, c.intermediate}), up = Tensor::empty(DType::F32, {T, c.intermediate});
  ops::embedding(w_.embed, ids, h);
  if (trace) trace->hidden.push_back(h.clone());
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = w_.layers[size_t(l)];
    ops::rms_norm(h, L.input_norm, c.rms_eps, x);
    Tensor k = cache.k[size_t(l)].rows(pos0, T), v = cache.v[size_t(l)].rows(pos0, T);
    Tensor q2 = q.reshape({T, H * hd}), k2 = k.reshape({T, Hkv * hd}), v2 = v.reshape({T, Hkv * hd});
    const ops::LinearJob qkv[] = {{x, L.q, &L.q_bias, q2}, {x, L.k, &L.k_bias, k2}, {x, L.v, &L.v_bias, v2}};
    ops::linear_group(qkv, opt_.precision);
    ops::rope(q, positions, c.rope_theta, q);
    ops::rope(k, positions, c.rope_theta, k);
    ops::attention(q, cache.k[size_t(l)].rows(0, pos0 + T), cache.v[size_t(l)].rows(0, pos0 + T), pos0, att);
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
  cache.length = pos0 + T;
  Tensor rows = all_logits || trace ? h : h.rows(T - 1, 1);
  Tensor normed = Tensor::empty(DType::F32, rows.shape());
  ops::rms_norm(rows, w_.final_norm, c.rms_eps, normed);
  if (trace) trace->hidden.push_back(normed.clone());
  if (logits) ops::linear(normed, w_.lm_head, nullptr, *logits, opt_.precision);
}

void Model::forward(std::span<const int32_t> ids, KvCache& cache, Tensor& logits, bool all_logits) {
  const Config& c = w_.config;
  GANDER_CHECK(!ids.empty(), "forward: no tokens to process");
  GANDER_CHECK(cache.k.size() == size_t(c.n_layer), "forward: the KV cache does not belong to this model");
  for (int32_t id : ids)
    GANDER_CHECK(id >= 0 && id < c.vocab, "token id ", id, " is out of range for this model's vocabulary of ", c.vocab);
  const int64_t T = int64_t(ids.size());
  const Shape want = all_logits ? Shape{T, c.vocab} : Shape{1, c.vocab};
  if (!logits.defined() || logits.shape() != want) logits = Tensor::empty(DType::F32, want);
  const int64_t chunk = std::max<int64_t>(1, opt_.chunk);
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t n = std::min(chunk, T - t0);
    Tensor part = all_logits ? logits.rows(t0, n) : logits;
    run_chunk(ids.subspan(size_t(t0), size_t(n)), cache, all_logits || t0 + n == T ? &part : nullptr, all_logits, nullptr);
  }
}

void Model::forward_trace(std::span<const int32_t> ids, KvCache& cache, Tensor& logits, Trace& trace) {
  GANDER_CHECK(!ids.empty(), "forward: no tokens to process");
  for (int32_t id : ids) GANDER_CHECK(id >= 0 && id < w_.config.vocab, "token id ", id, " is out of range");
  logits = Tensor::empty(DType::F32, {int64_t(ids.size()), w_.config.vocab});
  trace = Trace{};
  run_chunk(ids, cache, &logits, true, &trace);
}

}  // namespace gander::qwen2
