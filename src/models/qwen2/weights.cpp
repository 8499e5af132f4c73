#include "models/qwen2/weights.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/random_fill.h"
#include "core/rng.h"
#include "models/fingerprint.h"

namespace gander::qwen2 {

void Weights::for_each(const std::function<void(const std::string&, const Tensor&)>& fn) const {
  fn("model.embed_tokens.weight", embed);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights& L = layers[l];
    const std::string p = concat("model.layers.", l, ".");
    for (auto [n, t] : {std::pair{"input_layernorm.weight", &L.input_norm}, {"post_attention_layernorm.weight", &L.post_attn_norm},
                        {"self_attn.q_proj.weight", &L.q}, {"self_attn.k_proj.weight", &L.k},
                        {"self_attn.v_proj.weight", &L.v}, {"self_attn.o_proj.weight", &L.o},
                        {"self_attn.q_proj.bias", &L.q_bias}, {"self_attn.k_proj.bias", &L.k_bias},
                        {"self_attn.v_proj.bias", &L.v_bias}, {"mlp.gate_proj.weight", &L.gate},
                        {"mlp.up_proj.weight", &L.up}, {"mlp.down_proj.weight", &L.down}})
      fn(p + n, *t);
  }
  fn("model.norm.weight", final_norm);
  if (!config.tied_embeddings) fn("lm_head.weight", lm_head);
}

int64_t Weights::bytes() const {
  int64_t n = 0;
  for_each([&n](const std::string&, const Tensor& t) { n += int64_t(t.nbytes()); });
  return n;
}

uint64_t Weights::fingerprint() const {
  Fingerprint f;
  for_each([&f](const std::string& name, const Tensor& t) { f.add(name, t); });
  return f.value();
}

Weights load_folder(const std::string& folder) {
  const std::string cfg = (std::filesystem::path(folder) / "config.json").string();
  GANDER_CHECK(std::filesystem::exists(cfg), folder, ": no config.json (a Qwen2 model is a Hugging Face folder)");
  const Config c = Config::from_json(io::JsonConfig::load(cfg));
  return load_weights(c, io::load_checkpoint(folder), cfg);
}

Weights load_weights(const Config& c, const io::Checkpoint& ck, const std::string& config_source) {
  std::set<std::string> used;
  auto get = [&](const std::string& name, const Shape& shape) -> const Tensor& {
    const Tensor& t = ck.get(name);
    used.insert(name);
    GANDER_CHECK(t.shape() == shape, ck.source(), ": tensor '", name, "': expected shape ", shape_str(shape), " from ",
                 config_source, ", got ", shape_str(t.shape()));
    GANDER_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16 || t.dtype() == DType::F16, ck.source(),
                 ": tensor '", name, "': unsupported dtype ", dtype_name(t.dtype()));
    return t;
  };
  auto vec = [&](const std::string& name, int64_t n) { return get(name, {n}).to(DType::F32); };
  const int64_t D = c.hidden, Q = c.n_head * c.head_dim, KV = c.n_kv_head * c.head_dim, I = c.intermediate;
  Weights w;
  w.config = c;
  w.source = ck.source();
  {
    const Tensor& e = ck.get("model.embed_tokens.weight");
    GANDER_CHECK(e.ndim() == 2 && e.dim(1) == D && e.dim(0) == c.vocab, ck.source(), ": tensor 'model.embed_tokens.weight' has shape ",
                 shape_str(e.shape()), " but ", config_source, " says vocab_size ", c.vocab, " and hidden_size ", D);
  }
  w.embed = get("model.embed_tokens.weight", {c.vocab, D});
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = concat("model.layers.", l, ".");
    LayerWeights L;
    L.input_norm = vec(p + "input_layernorm.weight", D);
    L.post_attn_norm = vec(p + "post_attention_layernorm.weight", D);
    L.q = get(p + "self_attn.q_proj.weight", {Q, D});
    L.k = get(p + "self_attn.k_proj.weight", {KV, D});
    L.v = get(p + "self_attn.v_proj.weight", {KV, D});
    L.o = get(p + "self_attn.o_proj.weight", {D, Q});
    L.q_bias = vec(p + "self_attn.q_proj.bias", Q);
    L.k_bias = vec(p + "self_attn.k_proj.bias", KV);
    L.v_bias = vec(p + "self_attn.v_proj.bias", KV);
    L.gate = get(p + "mlp.gate_proj.weight", {I, D});
    L.up = get(p + "mlp.up_proj.weight", {I, D});
    L.down = get(p + "mlp.down_proj.weight", {D, I});
    w.layers.push_back(std::move(L));
  }
  w.final_norm = vec("model.norm.weight", D);
  if (c.tied_embeddings) {
    w.lm_head = w.embed;
    // Some exports store the copy; one that differs would be silently dropped, so refuse it.
    if (ck.contains("lm_head.weight")) {
      const Tensor& head = get("lm_head.weight", {c.vocab, D});
      GANDER_CHECK(head.dtype() == w.embed.dtype() && std::memcmp(head.raw(), w.embed.raw(), head.nbytes()) == 0,
                   ck.source(), ": tensor 'lm_head.weight' differs from 'model.embed_tokens.weight' but ", config_source,
                   " says tie_word_embeddings is true (the head would be ignored)");
    }
  } else {
    GANDER_CHECK(ck.contains("lm_head.weight"), ck.source(), ": missing tensor 'lm_head.weight' (", config_source,
                 " says tie_word_embeddings is false)");
    w.lm_head = get("lm_head.weight", {c.vocab, D});
  }
  for (const std::string& n : ck.names()) {
    if (used.count(n) || n.ends_with(".rotary_emb.inv_freq")) continue;
    if (n.starts_with(concat("model.layers.", c.n_layer, ".")))
      fail(ck.source(), ": tensor '", n, "' belongs to a layer beyond num_hidden_layers = ", c.n_layer, " in ", config_source);
    fail(ck.source(), ": unknown tensor '", n, "' (not part of a Qwen2 model)");
  }
  return w;
}

Weights random_weights(const Config& c, DType dt, uint64_t seed) {
  Rng rng(seed);
  auto normal = [&](Shape s, float std, DType dt) { return random_normal(std::move(s), std, dt, rng.next_u64()); };
  auto ones = [](int64_t n) { return Tensor::from_f32(std::vector<float>(size_t(n), 1.0f), {n}); };
  const int64_t D = c.hidden, Q = c.n_head * c.head_dim, KV = c.n_kv_head * c.head_dim, I = c.intermediate;
  Weights w;
  w.config = c;
  w.source = "random qwen2 " + c.describe();
  w.embed = normal({c.vocab, D}, 0.02f, dt);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights L;
    L.input_norm = ones(D), L.post_attn_norm = ones(D);
    L.q = normal({Q, D}, 0.02f, dt), L.k = normal({KV, D}, 0.02f, dt), L.v = normal({KV, D}, 0.02f, dt);
    L.o = normal({D, Q}, 0.02f, dt);
    L.q_bias = normal({Q}, 0.02f, DType::F32), L.k_bias = normal({KV}, 0.02f, DType::F32);
    L.v_bias = normal({KV}, 0.02f, DType::F32);
    L.gate = normal({I, D}, 0.02f, dt), L.up = normal({I, D}, 0.02f, dt), L.down = normal({D, I}, 0.02f, dt);
    w.layers.push_back(std::move(L));
  }
  w.final_norm = ones(D);
  w.lm_head = c.tied_embeddings ? w.embed : normal({c.vocab, D}, 0.02f, dt);
  return w;
}

}  // namespace gander::qwen2
