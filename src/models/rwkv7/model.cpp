#include "models/rwkv7/model.h"

#include <algorithm>
#include <cmath>

#include "models/blocks/channel_mix7.h"
#include "models/mixers/time_mix7.h"

namespace gander::rwkv7 {

using models::Naming;

std::unique_ptr<models::Decoder> build(const Config& c) {
  GANDER_CHECK(c.n_embd % kHeadSize == 0 && c.n_layer > 0 && c.vocab > 0, "RWKV-7: bad shape ", c.describe());
  models::DecoderInfo info;
  info.architecture = "rwkv7";
  info.shape = c.describe();
  info.native = info.naming = Naming::RwkvLm;
  info.parameter_count = c.parameter_count();
  info.state_file = kStateFile;
  info.state_prefix = "blocks.";
  // Prefill passes: AMX products are as efficient at 256 rows as at 512 and the activations then
  // stay nearer the caches; oneDNN's f32 sgemm gains from more rows (~60 KB of scratch a row at 0.1B).
  info.chunk_f32 = 512;
  info.chunk_bf16 = 256;
  const int64_t C = c.n_embd;
  // From scratch (spec §5.1): emb uniform(-1e-4, 1e-4), head orthogonal with gain 0.5 sqrt(V/C).
  models::Embedding emb{c.vocab, C, 1e-2f, {}, models::Norm::layer(C, kLayerNormEps),
                        models::Init::uniform(-1e-4f, 1e-4f)};
  std::vector<models::Layer> layers;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    models::TimeMix7Config t;
    t.form = models::TimeMix7Config::Form::Goose;
    t.layer = l;
    t.layers = c.n_layer;
    t.width = C;
    t.heads = t.kv_heads = c.n_head;
    t.head_size = kHeadSize;
    t.rank_w = c.rank_w, t.rank_a = c.rank_a, t.rank_v = c.rank_v, t.rank_g = c.rank_g;
    t.group_norm_eps = kGroupNormEps;
    layers.push_back({models::Norm::layer(C, kLayerNormEps), std::make_unique<models::TimeMix7>(t),
                      models::Norm::layer(C, kLayerNormEps), std::make_unique<models::ChannelMix7>(C, c.dim_ffn, l, c.n_layer)});
  }
  models::Head head{c.vocab, C, false, 1.0f / std::sqrt(float(C)), {},
                    models::official_orthogonal(c.vocab, C, 0.5f)};
  return std::make_unique<models::Decoder>(std::move(info), std::move(emb), std::move(layers),
                                           models::Norm::layer(C, kLayerNormEps), std::move(head));
}

Naming checkpoint_naming(const io::Checkpoint& ck) {
  if (ck.contains("emb.weight")) return Naming::RwkvLm;
  if (ck.contains("model.embeddings.weight")) return Naming::Fla;
  fail(ck.source(), ": not an RWKV-7 checkpoint (neither 'emb.weight' nor 'model.embeddings.weight' found)");
}

namespace {
int64_t count_layers(const io::Checkpoint& ck, Naming naming) {
  const std::string prefix = naming == Naming::Fla ? "model.layers." : "blocks.";
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

// A name under the checkpoint's naming: RWKV-LM's "blocks.L.<official>" or fla's "model.layers.L.<fla>".
std::string name_in(Naming naming, int64_t layer, const char* official, const char* fla) {
  return models::layer_prefix(naming, layer) + (naming == Naming::Fla ? fla : official);
}

const Tensor& tensor(const io::Checkpoint& ck, const std::string& name) {
  const Tensor* t = ck.find(name);
  GANDER_CHECK(t, ck.source(), ": missing tensor '", name, "'");
  return *t;
}

// The rank of a LoRA from its first matrix, whichever layout the file uses.
int64_t lora_rank(const io::Checkpoint& ck, Naming naming, int64_t layer, const char* official, const char* fla,
                  int64_t C) {
  const std::string name = name_in(naming, layer, official, fla);
  const Tensor& t = tensor(ck, name);
  const std::string where = concat(ck.source(), ": tensor '", name, "'");
  GANDER_CHECK(t.ndim() == 2, where, ": expected a matrix, got ", shape_str(t.shape()));
  const bool fla_layout = naming == Naming::Fla;
  GANDER_CHECK((fla_layout ? t.dim(1) : t.dim(0)) == C, where, ": shape ", shape_str(t.shape()),
               " does not have the model width ", C);
  return fla_layout ? t.dim(0) : t.dim(1);
}

// Older fla checkpoints fuse the six token-shift mixes of a layer into attn.x_x [6, C] (order r,w,k,v,a,g).
Tensor fused_mix(const models::Param& p, const io::Checkpoint& ck, int64_t C) {
  const std::string& name = p.as(Naming::Fla).name;
  const size_t at = name.find(".attn.x_");
  if (at == std::string::npos || name.find("x_x") != std::string::npos || ck.contains(name)) return {};
  const std::string fused = name.substr(0, at) + ".attn.x_x";
  const Tensor* t = ck.find(fused);
  GANDER_CHECK(t, ck.source(), ": missing tensor '", name, "' (and no fused '", fused, "')");
  GANDER_CHECK(t->shape() == (Shape{6, C}), ck.source(), ": tensor '", fused, "': expected shape [6, ", C, "], got ",
               shape_str(t->shape()));
  return t->row(int64_t(std::string("rwkvag").find(name.back()))).to(DType::F32);
}
}  // namespace

Config config_of(const io::Checkpoint& ck) {
  const Naming naming = checkpoint_naming(ck);
  const std::string emb_name = naming == Naming::Fla ? "model.embeddings.weight" : "emb.weight";
  const Tensor& emb = tensor(ck, emb_name);
  GANDER_CHECK(emb.ndim() == 2, ck.source(), ": tensor '", emb_name, "': expected [vocab, width], got ",
               shape_str(emb.shape()));
  Config c;
  c.vocab = emb.dim(0);
  c.n_embd = emb.dim(1);
  c.n_layer = count_layers(ck, naming);
  GANDER_CHECK(c.n_layer > 0, ck.source(), ": no layers found");
  GANDER_CHECK(c.n_embd % kHeadSize == 0, ck.source(), ": tensor '", emb_name, "': width ", c.n_embd,
               " is not a multiple of the head size ", kHeadSize);
  c.n_head = c.n_embd / kHeadSize;
  const std::string fk = name_in(naming, 0, "ffn.key.weight", "ffn.key.weight");
  GANDER_CHECK(tensor(ck, fk).ndim() == 2, ck.source(), ": tensor '", fk, "': expected a matrix");
  c.dim_ffn = tensor(ck, fk).dim(0);
  c.rank_w = lora_rank(ck, naming, 0, "att.w1", "attn.w_lora.lora.0.weight", c.n_embd);
  c.rank_a = lora_rank(ck, naming, 0, "att.a1", "attn.a_lora.lora.0.weight", c.n_embd);
  c.rank_g = lora_rank(ck, naming, 0, "att.g1", "attn.g_lora.lora.0.weight", c.n_embd);
  c.rank_v = c.n_layer > 1 ? lora_rank(ck, naming, 1, "att.v1", "attn.v_lora.lora.0.weight", c.n_embd) : 0;
  return c;
}

std::unique_ptr<models::Decoder> read(const io::Checkpoint& ck, const DType* convert) {
  const Naming naming = checkpoint_naming(ck);
  const Config c = config_of(ck);
  std::unique_ptr<models::Decoder> d = build(c);
  d->info().source = ck.source();
  d->info().format = ck.format();
  d->info().naming = naming;
  models::LoadHooks hooks;
  if (naming == Naming::Fla) {
    hooks.alternative = [C = c.n_embd](const models::Param& p, const io::Checkpoint& k) { return fused_mix(p, k, C); };
    hooks.known = [](const std::string& n) { return n.ends_with(".attn.x_x"); };
  }
  hooks.unknown = [&ck](const std::string& n) {
    return concat(ck.source(), ": unknown tensor '", n, "' (not part of an RWKV-7 model)");
  };
  models::load_params(d->params(), naming, ck, convert, hooks);
  return d;
}

std::shared_ptr<const models::Decoder> load(const io::Checkpoint& ck, const DType* convert) {
  std::shared_ptr<models::Decoder> d = read(ck, convert);
  d->finish();
  return d;
}

std::shared_ptr<const models::Decoder> random(const Config& c, DType matrix_dtype, uint64_t seed) {
  std::shared_ptr<models::Decoder> d = build(c);
  d->info().source = concat("random ", c.describe());
  d->info().format = "random";
  models::init_params(d->params(), matrix_dtype, seed);
  d->finish();
  return d;
}

std::string state_name(int64_t layer, const char* entry) { return concat("blocks.", layer, ".", entry); }

models::SequenceState load_time_state(const std::string& path, const models::Decoder& model, bool key_major) {
  const io::Checkpoint ck = io::load_checkpoint(path);
  models::SequenceState s = model.new_state();
  for (int64_t l = 0; l < model.n_layer(); ++l) {
    Tensor& wkv = s.get(state_name(l, "wkv"));
    const int64_t H = wkv.dim(0), N = wkv.dim(1);
    const std::string name = concat("blocks.", l, ".att.time_state");
    const Tensor& t = ck.get(name);
    check_shape(t, {H, N, N}, path + ": tensor '" + name + "'");
    if (!key_major) {
      wkv.copy_from(t);
      continue;
    }
    const std::vector<float> v = t.to_f32_vector();
    float* d = wkv.data<float>();
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < N; ++j) d[(h * N + i) * N + j] = v[size_t((h * N + j) * N + i)];
  }
  return s;
}

}  // namespace gander::rwkv7
