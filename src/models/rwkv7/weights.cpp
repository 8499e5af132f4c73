#include "models/rwkv7/weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "core/random_fill.h"
#include "models/fingerprint.h"

namespace gander::rwkv7 {

namespace {

// Resolves official names to the checkpoint's own naming and layout.
class Reader {
 public:
  Reader(const io::Checkpoint& ck, const DType* convert) : ck_(ck), convert_(convert) {
    if (ck.contains("emb.weight")) {
      fla_ = false;
    } else if (ck.contains("model.embeddings.weight")) {
      fla_ = true;
    } else {
      fail(ck.source(), ": not an RWKV-7 checkpoint (neither 'emb.weight' nor 'model.embeddings.weight' found)");
    }
  }
  bool fla() const { return fla_; }

  std::string name(const std::string& official) const {
    if (!fla_) return official;
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

  // A [C] vector stored as [C], [1, C] or [1, 1, C], as f32.
  Tensor vec(const std::string& official, int64_t C) const {
    const Tensor& t = get(official);
    GANDER_CHECK(t.numel() == C && t.dim(-1) == C, where(official), ": expected shape [", C, "] (or [1, 1, ", C,
                 "]), got ", shape_str(t.shape()));
    return t.reshape({C}).to(DType::F32);
  }
  // Token-shift mix x_<c>: separate tensors, or older fla's fused attn.x_x [6, C] in order r,w,k,v,a,g.
  Tensor mix(int64_t l, char c, int64_t C) const {
    const std::string off = concat("blocks.", l, ".att.x_", c);
    if (!fla_ || ck_.contains(name(off))) return vec(off, C);
    const std::string fused = concat("model.layers.", l, ".attn.x_x");
    const Tensor* t = ck_.find(fused);
    GANDER_CHECK(t, ck_.source(), ": missing tensor '", name(off), "' (and no fused '", fused, "')");
    used_.insert(fused);
    GANDER_CHECK(t->shape() == (Shape{6, C}), ck_.source(), ": tensor '", fused, "': expected shape [6, ", C, "], got ",
                 shape_str(t->shape()));
    const int64_t idx = int64_t(std::string("rwkvag").find(c));
    return t->row(idx).to(DType::F32);
  }
  // A LoRA matrix in Linear layout [out, in]: official stores [in, out] (used as x @ A).
  Tensor lora(const std::string& official, int64_t in, int64_t out) const {
    const Tensor& t = get(official);
    const Shape stored = fla_ ? Shape{out, in} : Shape{in, out};
    GANDER_CHECK(t.shape() == stored, where(official), ": expected shape ", shape_str(stored), ", got ",
                 shape_str(t.shape()));
    if (fla_) return t.to(DType::F32);
    const std::vector<float> v = t.to_f32_vector();
    Tensor o = Tensor::empty(DType::F32, {out, in});
    float* po = o.data<float>();
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < out; ++j) po[j * in + i] = v[size_t(i * out + j)];
    return o;
  }
  // A large matrix, kept in storage (or converted once if asked).
  Tensor matrix(const std::string& official, Shape shape) const {
    const Tensor& t = get(official);
    GANDER_CHECK(t.shape() == shape, where(official), ": expected shape ", shape_str(shape), ", got ",
                 shape_str(t.shape()));
    GANDER_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16 || t.dtype() == DType::F16, where(official),
                 ": unsupported dtype ", dtype_name(t.dtype()));
    if (convert_ && *convert_ != t.dtype()) return t.to(*convert_);
    return t;
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
  const DType* convert_;
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
  const Reader rd(ck, convert);
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
  const int64_t C = c.n_embd, F = c.dim_ffn;

  w.emb = rd.matrix("emb.weight", {c.vocab, C});
  w.matrix_dtype = w.emb.dtype();
  w.ln0_w = rd.vec("blocks.0.ln0.weight", C);
  w.ln0_b = rd.vec("blocks.0.ln0.bias", C);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = concat("blocks.", l, ".");
    LayerWeights L;
    L.ln1_w = rd.vec(p + "ln1.weight", C);
    L.ln1_b = rd.vec(p + "ln1.bias", C);
    L.ln2_w = rd.vec(p + "ln2.weight", C);
    L.ln2_b = rd.vec(p + "ln2.bias", C);
    L.x_r = rd.mix(l, 'r', C);
    L.x_w = rd.mix(l, 'w', C);
    L.x_k = rd.mix(l, 'k', C);
    L.x_v = rd.mix(l, 'v', C);
    L.x_a = rd.mix(l, 'a', C);
    L.x_g = rd.mix(l, 'g', C);
    L.w0 = rd.vec(p + "att.w0", C);
    L.a0 = rd.vec(p + "att.a0", C);
    L.w1 = rd.lora(p + "att.w1", C, c.rank_w);
    L.w2 = rd.lora(p + "att.w2", c.rank_w, C);
    L.a1 = rd.lora(p + "att.a1", C, c.rank_a);
    L.a2 = rd.lora(p + "att.a2", c.rank_a, C);
    if (l > 0) {
      L.v0 = rd.vec(p + "att.v0", C);
      L.v1 = rd.lora(p + "att.v1", C, c.rank_v);
      L.v2 = rd.lora(p + "att.v2", c.rank_v, C);
    }
    L.g1 = rd.lora(p + "att.g1", C, c.rank_g);
    L.g2 = rd.lora(p + "att.g2", c.rank_g, C);
    L.k_k = rd.vec(p + "att.k_k", C);
    L.k_a = rd.vec(p + "att.k_a", C);
    {
      const Tensor& rk = rd.get(p + "att.r_k");
      GANDER_CHECK(rk.numel() == C, rd.where(p + "att.r_k"), ": expected shape [", c.n_head, ", ", kHeadSize, "], got ",
                   shape_str(rk.shape()));
      L.r_k = rk.reshape({C}).to(DType::F32);
    }
    L.receptance = rd.matrix(p + "att.receptance.weight", {C, C});
    L.key = rd.matrix(p + "att.key.weight", {C, C});
    L.value = rd.matrix(p + "att.value.weight", {C, C});
    L.output = rd.matrix(p + "att.output.weight", {C, C});
    L.ln_x_w = rd.vec(p + "att.ln_x.weight", C);
    L.ln_x_b = rd.vec(p + "att.ln_x.bias", C);
    L.ffn_x_k = rd.vec(p + "ffn.x_k", C);
    L.ffn_key = rd.matrix(p + "ffn.key.weight", {F, C});
    L.ffn_value = rd.matrix(p + "ffn.value.weight", {C, F});
    w.layers.push_back(std::move(L));
  }
  w.ln_out_w = rd.vec("ln_out.weight", C);
  w.ln_out_b = rd.vec("ln_out.bias", C);
  w.head = rd.matrix("head.weight", {c.vocab, C});
  rd.check_all_used();
  return w;
}

void Weights::for_each(const std::function<void(const std::string&, const Tensor&)>& fn) const {
  fn("emb.weight", emb);
  fn("blocks.0.ln0.weight", ln0_w);
  fn("blocks.0.ln0.bias", ln0_b);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights& L = layers[l];
    const std::string p = concat("blocks.", l, ".");
    const std::pair<const char*, const Tensor*> all[] = {
        {"ln1.weight", &L.ln1_w}, {"ln1.bias", &L.ln1_b}, {"ln2.weight", &L.ln2_w}, {"ln2.bias", &L.ln2_b},
        {"att.x_r", &L.x_r}, {"att.x_w", &L.x_w}, {"att.x_k", &L.x_k}, {"att.x_v", &L.x_v}, {"att.x_a", &L.x_a},
        {"att.x_g", &L.x_g}, {"att.w0", &L.w0}, {"att.a0", &L.a0}, {"att.v0", &L.v0}, {"att.w1", &L.w1},
        {"att.w2", &L.w2}, {"att.a1", &L.a1}, {"att.a2", &L.a2}, {"att.v1", &L.v1}, {"att.v2", &L.v2},
        {"att.g1", &L.g1}, {"att.g2", &L.g2}, {"att.k_k", &L.k_k}, {"att.k_a", &L.k_a}, {"att.r_k", &L.r_k},
        {"att.receptance.weight", &L.receptance}, {"att.key.weight", &L.key}, {"att.value.weight", &L.value},
        {"att.output.weight", &L.output}, {"att.ln_x.weight", &L.ln_x_w}, {"att.ln_x.bias", &L.ln_x_b},
        {"ffn.x_k", &L.ffn_x_k}, {"ffn.key.weight", &L.ffn_key}, {"ffn.value.weight", &L.ffn_value}};
    for (auto& [n, t] : all)
      if (t->defined()) fn(p + n, *t);
  }
  fn("ln_out.weight", ln_out_w);
  fn("ln_out.bias", ln_out_b);
  fn("head.weight", head);
}

uint64_t Weights::fingerprint() const {
  Fingerprint f;
  for_each([&f](const std::string& name, const Tensor& t) { f.add(name, t); });
  return f.value();
}

int64_t Weights::bytes() const {
  int64_t n = 0;
  for_each([&](const std::string&, const Tensor& t) { n += int64_t(t.nbytes()); });
  return n;
}

Weights random_weights(const Config& c, DType matrix_dtype, uint64_t seed) {
  GANDER_CHECK(c.n_embd % kHeadSize == 0 && c.n_layer > 0 && c.vocab > 0, "random model: bad shape ", c.describe());
  Rng rng(seed);
  const int64_t C = c.n_embd, F = c.dim_ffn;
  auto fill = [&](Shape s, float lo, float hi) {
    Tensor t = Tensor::empty(DType::F32, std::move(s));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = rng.uniform(lo, hi);
    return t;
  };
  auto normal = [&](Shape s, float std, DType dt) { return random_normal(std::move(s), std, dt, rng.next_u64()); };
  const float s = 1.0f / std::sqrt(float(C));
  Weights w;
  w.config = c;
  w.source = concat("random ", c.describe());
  w.format = "random";
  w.naming = "official (RWKV-LM)";
  w.matrix_dtype = matrix_dtype;
  w.emb = normal({c.vocab, C}, 1e-2f, matrix_dtype);
  w.ln0_w = fill({C}, 0.9f, 1.1f);
  w.ln0_b = fill({C}, -0.1f, 0.1f);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights L;
    L.ln1_w = fill({C}, 0.9f, 1.1f), L.ln1_b = fill({C}, -0.1f, 0.1f);
    L.ln2_w = fill({C}, 0.9f, 1.1f), L.ln2_b = fill({C}, -0.1f, 0.1f);
    L.x_r = fill({C}, 0, 1), L.x_w = fill({C}, 0, 1), L.x_k = fill({C}, 0, 1);
    L.x_v = fill({C}, 0, 1), L.x_a = fill({C}, 0, 1), L.x_g = fill({C}, 0, 1);
    L.w0 = fill({C}, -6, 0), L.a0 = fill({C}, -1, 1);
    L.w1 = normal({c.rank_w, C}, s, DType::F32), L.w2 = normal({C, c.rank_w}, 0.1f, DType::F32);
    L.a1 = normal({c.rank_a, C}, s, DType::F32), L.a2 = normal({C, c.rank_a}, 0.1f, DType::F32);
    if (l > 0) {
      L.v0 = fill({C}, -1, 1);
      L.v1 = normal({c.rank_v, C}, s, DType::F32), L.v2 = normal({C, c.rank_v}, 0.1f, DType::F32);
    }
    L.g1 = normal({c.rank_g, C}, s, DType::F32), L.g2 = normal({C, c.rank_g}, 0.1f, DType::F32);
    L.k_k = fill({C}, 0.5f, 1.5f), L.k_a = fill({C}, 0.5f, 1.5f), L.r_k = fill({C}, -0.5f, 0.5f);
    L.receptance = normal({C, C}, s, matrix_dtype), L.key = normal({C, C}, s, matrix_dtype);
    L.value = normal({C, C}, s, matrix_dtype), L.output = normal({C, C}, s, matrix_dtype);
    L.ln_x_w = fill({C}, 0.5f, 1.0f), L.ln_x_b = fill({C}, -0.1f, 0.1f);
    L.ffn_x_k = fill({C}, 0, 1);
    L.ffn_key = normal({F, C}, s, matrix_dtype), L.ffn_value = normal({C, F}, 1.0f / std::sqrt(float(F)), matrix_dtype);
    w.layers.push_back(std::move(L));
  }
  w.ln_out_w = fill({C}, 0.9f, 1.1f), w.ln_out_b = fill({C}, -0.1f, 0.1f);
  w.head = normal({c.vocab, C}, s, matrix_dtype);
  return w;
}

}  // namespace gander::rwkv7
