#include "models/rwkv7/weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "core/random_fill.h"
#include "models/fingerprint.h"

namespace gander::rwkv7 {

std::string fla_name(const std::string& official) {
  static const std::vector<std::pair<std::string, std::string>> global = {
      {"emb.weight", "model.embeddings.weight"}, {"ln_out.weight", "model.norm.weight"},
      {"ln_out.bias", "model.norm.bias"}, {"head.weight", "lm_head.weight"},
      {"blocks.0.ln0.weight", "model.layers.0.pre_norm.weight"}, {"blocks.0.ln0.bias", "model.layers.0.pre_norm.bias"}};
  for (auto& [o, f] : global)
    if (official == o) return f;
  // blocks.{l}.<rest>
  const size_t dot = official.find('.', 7);
  const std::string layer = official.substr(7, dot - 7), rest = official.substr(dot + 1);
  static const std::vector<std::pair<std::string, std::string>> per_layer = {
      {"ln1.weight", "attn_norm.weight"}, {"ln1.bias", "attn_norm.bias"}, {"ln2.weight", "ffn_norm.weight"},
      {"ln2.bias", "ffn_norm.bias"}, {"att.w0", "attn.w_lora.lora.2.bias"}, {"att.a0", "attn.a_lora.lora.2.bias"},
      {"att.v0", "attn.v_lora.lora.2.bias"}, {"att.w1", "attn.w_lora.lora.0.weight"},
      {"att.w2", "attn.w_lora.lora.2.weight"}, {"att.a1", "attn.a_lora.lora.0.weight"},
      {"att.a2", "attn.a_lora.lora.2.weight"}, {"att.v1", "attn.v_lora.lora.0.weight"},
      {"att.v2", "attn.v_lora.lora.2.weight"}, {"att.g1", "attn.g_lora.lora.0.weight"},
      {"att.g2", "attn.g_lora.lora.2.weight"}, {"att.receptance.weight", "attn.r_proj.weight"},
      {"att.key.weight", "attn.k_proj.weight"}, {"att.value.weight", "attn.v_proj.weight"},
      {"att.output.weight", "attn.o_proj.weight"}, {"att.ln_x.weight", "attn.g_norm.weight"},
      {"att.ln_x.bias", "attn.g_norm.bias"}};
  for (auto& [o, f] : per_layer)
    if (rest == o) return "model.layers." + layer + "." + f;
  if (rest.starts_with("att.")) return "model.layers." + layer + ".attn." + rest.substr(4);  // x_*, k_k, k_a, r_k
  return "model.layers." + layer + "." + rest;                                             // ffn.*
}

models::Param fla_layout(models::Param p) {
  p.transposed = false;  // fla keeps Linear layout
  if (!p.matrix && p.shape.size() == 1) {
    // fla: the token-shift mixes of attention [1, 1, C], r_k [H, 64], every other vector [C].
    const bool mix = p.name.find(".att.x_") != std::string::npos;
    const int64_t C = p.shape[0];
    p.file_shape = mix ? Shape{1, 1, C} : p.name.ends_with(".att.r_k") ? Shape{C / kHeadSize, kHeadSize} : Shape{};
  } else {
    p.file_shape = {};
  }
  return p;
}

namespace {

// Resolves official names to the checkpoint's own naming and layout.
class Reader {
 public:
  explicit Reader(const io::Checkpoint& ck) : ck_(ck) {
    if (ck.contains("emb.weight")) {
      fla_ = false;
    } else if (ck.contains("model.embeddings.weight")) {
      fla_ = true;
    } else {
      fail(ck.source(), ": not an RWKV-7 checkpoint (neither 'emb.weight' nor 'model.embeddings.weight' found)");
    }
  }
  bool fla() const { return fla_; }

  std::string name(const std::string& official) const { return fla_ ? fla_name(official) : official; }

  const Tensor* find(const std::string& official) const {
    used_.insert(name(official));
    return ck_.find(name(official));
  }
  const Tensor& get(const std::string& official) const {
    const Tensor* t = find(official);
    GANDER_CHECK(t, ck_.source(), ": missing tensor '", name(official), "'");
    return *t;
  }
  std::string where(const std::string& official) const { return concat(ck_.source(), ": tensor '", name(official), "'"); }

  // Token-shift mix blocks.L.att.x_<c> from older fla's fused attn.x_x [6, C] (order r,w,k,v,a,g).
  Tensor mix(const std::string& official, int64_t C) const {
    const size_t dot = official.find('.', 7);
    const std::string fused = "model.layers." + official.substr(7, dot - 7) + ".attn.x_x";
    const Tensor* t = ck_.find(fused);
    GANDER_CHECK(t, ck_.source(), ": missing tensor '", name(official), "' (and no fused '", fused, "')");
    used_.insert(fused);
    GANDER_CHECK(t->shape() == (Shape{6, C}), ck_.source(), ": tensor '", fused, "': expected shape [6, ", C, "], got ",
                 shape_str(t->shape()));
    const int64_t idx = int64_t(std::string("rwkvag").find(official.back()));
    return t->row(idx).to(DType::F32);
  }
  // Every tensor in the file must have been understood.
  void check_all_used() const {
    for (const std::string& n : ck_.names()) {
      if (used_.count(n)) continue;
      // Layer 0's value-residual LoRA exists in official files but is never used.
      if (n == "blocks.0.att.v0" || n == "blocks.0.att.v1" || n == "blocks.0.att.v2" ||
          n.starts_with("model.layers.0.attn.v_lora."))
        continue;
      fail(ck_.source(), ": unknown tensor '", n, "' (not part of an RWKV-7 model)");
    }
  }

 private:
  const io::Checkpoint& ck_;
  bool fla_ = false;
  mutable std::set<std::string> used_;
};

int64_t count_layers(const io::Checkpoint& ck, bool fla) {
  const std::string prefix = fla ? "model.layers." : "blocks.";
  int64_t n = 0;
  for (const std::string& name : ck.names())
    if (name.starts_with(prefix)) {
      const size_t end = name.find('.', prefix.size());
      try {
        n = std::max<int64_t>(n, std::stoll(name.substr(prefix.size(), end - prefix.size())) + 1);
      } catch (const std::exception&) {
        fail(ck.source(), ": malformed layer name '", name, "'");
      }
    }
  return n;
}

// The rank of a LoRA from its first matrix, whichever layout the file uses.
int64_t lora_rank(const Reader& rd, const std::string& official, int64_t C) {
  const Tensor& t = rd.get(official);
  GANDER_CHECK(t.ndim() == 2, rd.where(official), ": expected a matrix, got ", shape_str(t.shape()));
  const int64_t rank = rd.fla() ? t.dim(0) : t.dim(1);
  GANDER_CHECK((rd.fla() ? t.dim(1) : t.dim(0)) == C, rd.where(official), ": shape ", shape_str(t.shape()),
               " does not have the model width ", C);
  return rank;
}

}  // namespace

Weights load_weights(const io::Checkpoint& ck, const DType* convert) {
  const Reader rd(ck);
  Weights w;
  w.source = ck.source();
  w.format = ck.format();
  w.naming = rd.fla() ? "fla / Hugging Face" : "official (RWKV-LM)";
  Config& c = w.config;
  const Tensor& emb = rd.get("emb.weight");
  GANDER_CHECK(emb.ndim() == 2, rd.where("emb.weight"), ": expected [vocab, width], got ", shape_str(emb.shape()));
  c.vocab = emb.dim(0);
  c.n_embd = emb.dim(1);
  c.n_layer = count_layers(ck, rd.fla());
  GANDER_CHECK(c.n_layer > 0, ck.source(), ": no layers found");
  GANDER_CHECK(c.n_embd % kHeadSize == 0, rd.where("emb.weight"), ": width ", c.n_embd, " is not a multiple of the head size ",
               kHeadSize);
  c.n_head = c.n_embd / kHeadSize;
  const Tensor& fk = rd.get("blocks.0.ffn.key.weight");
  GANDER_CHECK(fk.ndim() == 2, rd.where("blocks.0.ffn.key.weight"), ": expected a matrix");
  c.dim_ffn = fk.dim(0);
  c.rank_w = lora_rank(rd, "blocks.0.att.w1", c.n_embd);
  c.rank_a = lora_rank(rd, "blocks.0.att.a1", c.n_embd);
  c.rank_g = lora_rank(rd, "blocks.0.att.g1", c.n_embd);
  c.rank_v = c.n_layer > 1 ? lora_rank(rd, "blocks.1.att.v1", c.n_embd) : 0;
  const int64_t C = c.n_embd;
  w.layers.resize(size_t(c.n_layer));
  for (const models::Param& p : w.params()) {
    models::Param stored = rd.fla() ? fla_layout(p) : p;  // how this file stores it
    if (!p.matrix && !p.transposed) {
      // A vector of C: RWKV-LM stores [1, 1, C] (r_k [H, 64]), fla [C] or [1, 1, C]; any of them.
      if (p.name.find(".att.x_") != std::string::npos && rd.fla() && !ck.contains(rd.name(p.name))) {
        *p.slot = rd.mix(p.name, C);  // older fla's fused x_x
        continue;
      }
      const Tensor& t = rd.get(p.name);
      const bool r_k = p.name.ends_with(".att.r_k");
      GANDER_CHECK(t.numel() == C && (r_k || t.dim(-1) == C), rd.where(p.name), ": expected shape ",
                   shape_str(p.stored_shape()), " (or [", C, "]), got ", shape_str(t.shape()));
      stored.file_shape = t.shape();
    }
    *p.slot = models::from_stored(stored, rd.get(p.name), rd.where(p.name), convert);
  }
  w.matrix_dtype = w.emb.dtype();
  rd.check_all_used();
  return w;
}

models::ParamTable Weights::params() {
  using models::Init;
  const Config& c = config;
  const int64_t C = c.n_embd, F = c.dim_ffn, H = c.n_head;
  const float s = 1.0f / std::sqrt(float(C));
  const Init norm_w = Init::uniform(0.9f, 1.1f), norm_b = Init::uniform(-0.1f, 0.1f), mix = Init::uniform(0, 1);
  models::ParamTable t;
  // A vector of C held as [C], stored by RWKV-LM as `file` ([1, 1, C] for the token-shift mixes).
  auto vec = [&](std::string name, Tensor* slot, Init init, Shape file = {}) {
    t.push_back({std::move(name), slot, {C}, false, init, std::move(file)});
  };
  auto matrix = [&](std::string name, Tensor* slot, Shape shape, float std) {
    t.push_back({std::move(name), slot, std::move(shape), true, Init::normal(std), {}});
  };
  // A LoRA matrix held in Linear layout [out, in]; RWKV-LM stores [in, out] (used as x @ A).
  auto lora = [&](std::string name, Tensor* slot, int64_t in, int64_t out, float std) {
    t.push_back({std::move(name), slot, {out, in}, false, Init::normal(std), {in, out}, true});
  };
  const Shape row{1, 1, C};
  matrix("emb.weight", &emb, {c.vocab, C}, 1e-2f);
  vec("blocks.0.ln0.weight", &ln0_w, norm_w);
  vec("blocks.0.ln0.bias", &ln0_b, norm_b);
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerWeights& L = layers[l];
    const std::string p = concat("blocks.", l, ".");
    vec(p + "ln1.weight", &L.ln1_w, norm_w);
    vec(p + "ln1.bias", &L.ln1_b, norm_b);
    vec(p + "ln2.weight", &L.ln2_w, norm_w);
    vec(p + "ln2.bias", &L.ln2_b, norm_b);
    for (auto [n, x] : {std::pair{"att.x_r", &L.x_r}, {"att.x_w", &L.x_w}, {"att.x_k", &L.x_k}, {"att.x_v", &L.x_v},
                        {"att.x_a", &L.x_a}, {"att.x_g", &L.x_g}})
      vec(p + n, x, mix, row);
    vec(p + "att.w0", &L.w0, Init::uniform(-6, 0), row);
    vec(p + "att.a0", &L.a0, Init::uniform(-1, 1), row);
    if (l > 0) vec(p + "att.v0", &L.v0, Init::uniform(-1, 1), row);  // layer 0 has no value residual
    lora(p + "att.w1", &L.w1, C, c.rank_w, s);
    lora(p + "att.w2", &L.w2, c.rank_w, C, 0.1f);
    lora(p + "att.a1", &L.a1, C, c.rank_a, s);
    lora(p + "att.a2", &L.a2, c.rank_a, C, 0.1f);
    if (l > 0) {
      lora(p + "att.v1", &L.v1, C, c.rank_v, s);
      lora(p + "att.v2", &L.v2, c.rank_v, C, 0.1f);
    }
    lora(p + "att.g1", &L.g1, C, c.rank_g, s);
    lora(p + "att.g2", &L.g2, c.rank_g, C, 0.1f);
    vec(p + "att.k_k", &L.k_k, Init::uniform(0.5f, 1.5f), row);
    vec(p + "att.k_a", &L.k_a, Init::uniform(0.5f, 1.5f), row);
    vec(p + "att.r_k", &L.r_k, Init::uniform(-0.5f, 0.5f), {H, kHeadSize});
    matrix(p + "att.receptance.weight", &L.receptance, {C, C}, s);
    matrix(p + "att.key.weight", &L.key, {C, C}, s);
    matrix(p + "att.value.weight", &L.value, {C, C}, s);
    matrix(p + "att.output.weight", &L.output, {C, C}, s);
    vec(p + "att.ln_x.weight", &L.ln_x_w, Init::uniform(0.5f, 1.0f));
    vec(p + "att.ln_x.bias", &L.ln_x_b, norm_b);
    vec(p + "ffn.x_k", &L.ffn_x_k, mix, row);
    matrix(p + "ffn.key.weight", &L.ffn_key, {F, C}, s);
    matrix(p + "ffn.value.weight", &L.ffn_value, {C, F}, 1.0f / std::sqrt(float(F)));
  }
  vec("ln_out.weight", &ln_out_w, norm_w);
  vec("ln_out.bias", &ln_out_b, norm_b);
  matrix("head.weight", &head, {c.vocab, C}, s);
  return t;
}

void Weights::for_each(const std::function<void(const std::string&, const Tensor&)>& fn) const {
  // The table points into the weights; walking it changes nothing.
  models::for_each_param(const_cast<Weights&>(*this).params(), [&](const models::Param& p) { fn(p.name, *p.slot); });
}

uint64_t Weights::fingerprint() const { return models::fingerprint_of(const_cast<Weights&>(*this).params()); }

int64_t Weights::bytes() const { return models::bytes_of(const_cast<Weights&>(*this).params()); }

Weights random_weights(const Config& c, DType matrix_dtype, uint64_t seed) {
  GANDER_CHECK(c.n_embd % kHeadSize == 0 && c.n_layer > 0 && c.vocab > 0, "random model: bad shape ", c.describe());
  Weights w;
  w.config = c;
  w.source = concat("random ", c.describe());
  w.format = "random";
  w.naming = "official (RWKV-LM)";
  w.matrix_dtype = matrix_dtype;
  w.layers.resize(size_t(c.n_layer));
  models::init_params(w.params(), matrix_dtype, seed);
  return w;
}

}  // namespace gander::rwkv7
