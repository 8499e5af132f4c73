#include "models/qwen2/weights.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/random_fill.h"
#include "core/rng.h"
#include "models/fingerprint.h"

namespace gander::qwen2 {

models::ParamTable Weights::params() {
  using models::Init;
  const Config& c = config;
  const int64_t D = c.hidden, Q = c.n_head * c.head_dim, KV = c.n_kv_head * c.head_dim, I = c.intermediate;
  models::ParamTable t;
  auto matrix = [&t](std::string name, Tensor* slot, Shape shape) {
    t.push_back({std::move(name), slot, std::move(shape), true, Init::normal(0.02f), {}});
  };
  auto vec = [&t](std::string name, Tensor* slot, int64_t n, Init init) {
    t.push_back({std::move(name), slot, {n}, false, init, {}});
  };
  matrix("model.embed_tokens.weight", &embed, {c.vocab, D});
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerWeights& L = layers[l];
    const std::string p = concat("model.layers.", l, ".");
    vec(p + "input_layernorm.weight", &L.input_norm, D, Init::constant(1));
    vec(p + "post_attention_layernorm.weight", &L.post_attn_norm, D, Init::constant(1));
    matrix(p + "self_attn.q_proj.weight", &L.q, {Q, D});
    matrix(p + "self_attn.k_proj.weight", &L.k, {KV, D});
    matrix(p + "self_attn.v_proj.weight", &L.v, {KV, D});
    matrix(p + "self_attn.o_proj.weight", &L.o, {D, Q});
    vec(p + "self_attn.q_proj.bias", &L.q_bias, Q, Init::normal(0.02f));
    vec(p + "self_attn.k_proj.bias", &L.k_bias, KV, Init::normal(0.02f));
    vec(p + "self_attn.v_proj.bias", &L.v_bias, KV, Init::normal(0.02f));
    matrix(p + "mlp.gate_proj.weight", &L.gate, {I, D});
    matrix(p + "mlp.up_proj.weight", &L.up, {I, D});
    matrix(p + "mlp.down_proj.weight", &L.down, {D, I});
  }
  vec("model.norm.weight", &final_norm, D, Init::constant(1));
  if (!c.tied_embeddings) matrix("lm_head.weight", &lm_head, {c.vocab, D});  // tied: the embedding itself
  return t;
}

void Weights::for_each(const std::function<void(const std::string&, const Tensor&)>& fn) const {
  // The table points into the weights; walking it changes nothing.
  models::for_each_param(const_cast<Weights&>(*this).params(), [&](const models::Param& p) { fn(p.name, *p.slot); });
}

int64_t Weights::bytes() const { return models::bytes_of(const_cast<Weights&>(*this).params()); }

uint64_t Weights::fingerprint() const { return models::fingerprint_of(const_cast<Weights&>(*this).params()); }

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
  const int64_t D = c.hidden;
  Weights w;
  w.config = c;
  w.source = ck.source();
  {
    const Tensor& e = ck.get("model.embed_tokens.weight");
    GANDER_CHECK(e.ndim() == 2 && e.dim(1) == D && e.dim(0) == c.vocab, ck.source(), ": tensor 'model.embed_tokens.weight' has shape ",
                 shape_str(e.shape()), " but ", config_source, " says vocab_size ", c.vocab, " and hidden_size ", D);
  }
  GANDER_CHECK(c.tied_embeddings || ck.contains("lm_head.weight"), ck.source(), ": missing tensor 'lm_head.weight' (",
               config_source, " says tie_word_embeddings is false)");
  w.layers.resize(size_t(c.n_layer));
  for (const models::Param& p : w.params())
    *p.slot = models::from_stored(p, get(p.name, p.shape), concat(ck.source(), ": tensor '", p.name, "'"), nullptr);
  if (c.tied_embeddings) {
    w.lm_head = w.embed;  // (untied: loaded with the table)
    // Some exports store the copy; one that differs would be silently dropped, so refuse it.
    if (ck.contains("lm_head.weight")) {
      const Tensor& head = get("lm_head.weight", {c.vocab, D});
      GANDER_CHECK(head.dtype() == w.embed.dtype() && std::memcmp(head.raw(), w.embed.raw(), head.nbytes()) == 0,
                   ck.source(), ": tensor 'lm_head.weight' differs from 'model.embed_tokens.weight' but ", config_source,
                   " says tie_word_embeddings is true (the head would be ignored)");
    }
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
  Weights w;
  w.config = c;
  w.source = "random qwen2 " + c.describe();
  w.layers.resize(size_t(c.n_layer));
  models::init_params(w.params(), dt, seed);
  if (c.tied_embeddings) w.lm_head = w.embed;
  return w;
}

}  // namespace gander::qwen2
