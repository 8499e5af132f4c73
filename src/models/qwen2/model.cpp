#include "models/qwen2/model.h"

#include <cstring>
#include <filesystem>

#include "models/blocks/swiglu.h"
#include "models/mixers/attention.h"

namespace gander::qwen2 {

std::unique_ptr<models::Decoder> build(const Config& c, const MixerFor& mixer) {
  models::DecoderInfo info;
  info.architecture = "qwen2";
  info.shape = c.describe();
  info.native = info.naming = models::Naming::Hf;
  info.max_positions = c.max_positions;
  info.state_file = kKvFile;
  info.state_prefix = "layers.";
  info.chunk_f32 = info.chunk_bf16 = 512;
  const int64_t D = c.hidden;
  models::Embedding emb{c.vocab, D, 0.02f, {}, std::nullopt};
  std::vector<models::Layer> layers;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    std::unique_ptr<models::Block> m = mixer ? mixer(l) : nullptr;
    if (!m) m = std::make_unique<models::Attention>(models::AttentionConfig{D, c.n_head, c.n_kv_head, c.head_dim, c.rope_theta, true});
    layers.push_back({models::Norm::rms(D, c.rms_eps), std::move(m), models::Norm::rms(D, c.rms_eps),
                      std::make_unique<models::SwiGlu>(D, c.intermediate)});
  }
  models::Head head{c.vocab, D, c.tied_embeddings, 0.02f, {}};
  return std::make_unique<models::Decoder>(std::move(info), std::move(emb), std::move(layers),
                                           models::Norm::rms(D, c.rms_eps), std::move(head));
}

std::unique_ptr<models::Decoder> read(const Config& c, const io::Checkpoint& ck, const std::string& config_source,
                                      const DType* convert, const MixerFor& mixer, const std::string& what) {
  const int64_t D = c.hidden;
  {
    GANDER_CHECK(ck.contains("model.embed_tokens.weight"), ck.source(), ": missing tensor 'model.embed_tokens.weight'");
    const Tensor& e = ck.get("model.embed_tokens.weight");
    GANDER_CHECK(e.ndim() == 2 && e.dim(1) == D && e.dim(0) == c.vocab, ck.source(),
                 ": tensor 'model.embed_tokens.weight' has shape ", shape_str(e.shape()), " but ", config_source,
                 " says vocab_size ", c.vocab, " and hidden_size ", D);
  }
  GANDER_CHECK(c.tied_embeddings || ck.contains("lm_head.weight"), ck.source(), ": missing tensor 'lm_head.weight' (",
               config_source, " says tie_word_embeddings is false)");
  std::unique_ptr<models::Decoder> d = build(c, mixer);
  d->info().source = ck.source();
  d->info().format = ck.format();
  models::LoadHooks hooks;
  hooks.expected_from = " from " + config_source;
  // Some exports store a tied head's copy: accepted when it is the embedding (checked below).
  hooks.known = [&](const std::string& n) {
    return n.ends_with(".rotary_emb.inv_freq") || (c.tied_embeddings && n == "lm_head.weight");
  };
  hooks.unknown = [&](const std::string& n) {
    if (n.starts_with(concat("model.layers.", c.n_layer, ".")))
      return concat(ck.source(), ": tensor '", n, "' belongs to a layer beyond num_hidden_layers = ", c.n_layer, " in ",
                    config_source);
    return concat(ck.source(), ": unknown tensor '", n, "' (not part of ", what, ")");
  };
  models::load_params(d->params(), models::Naming::Hf, ck, convert, hooks);
  if (c.tied_embeddings && ck.contains("lm_head.weight")) {
    // One that differs would be silently dropped, so refuse it.
    const Tensor& head = ck.get("lm_head.weight");
    const Tensor& embed = ck.get("model.embed_tokens.weight");
    GANDER_CHECK(head.shape() == embed.shape() && head.dtype() == embed.dtype() &&
                     std::memcmp(head.raw(), embed.raw(), head.nbytes()) == 0,
                 ck.source(), ": tensor 'lm_head.weight' differs from 'model.embed_tokens.weight' but ", config_source,
                 " says tie_word_embeddings is true (the head would be ignored)");
  }
  return d;
}

std::unique_ptr<models::Decoder> read_folder(const std::string& folder, const DType* convert) {
  const std::string cfg = (std::filesystem::path(folder) / "config.json").string();
  GANDER_CHECK(std::filesystem::exists(cfg), folder, ": no config.json (a Qwen2 model is a Hugging Face folder)");
  const Config c = Config::from_json(io::JsonConfig::load(cfg));
  std::unique_ptr<models::Decoder> d = read(c, io::load_checkpoint(folder), cfg, convert);
  d->info().source = folder;
  d->info().format = "folder";
  return d;
}

std::shared_ptr<const models::Decoder> load_folder(const std::string& folder, const DType* convert) {
  std::shared_ptr<models::Decoder> d = read_folder(folder, convert);
  d->finish();
  return d;
}

std::shared_ptr<const models::Decoder> random(const Config& c, DType matrix_dtype, uint64_t seed) {
  std::shared_ptr<models::Decoder> d = build(c);
  d->info().source = "random qwen2 " + c.describe();
  d->info().format = "random";
  models::init_params(d->params(), matrix_dtype, seed);
  d->finish();
  return d;
}

}  // namespace gander::qwen2
