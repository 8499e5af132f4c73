#include "models/radlads/model.h"

#include <filesystem>
#include <map>

#include "models/mixers/time_mix6.h"
#include "models/qwen2/model.h"

namespace gander::radlads {

namespace {
// The converted mixer in every converted layer (none in the hybrid's last layers: the teacher's
// attention): RAD-RWKV7's time mix in a RADLADS form, or RAD-RWKV6's.
qwen2::MixerFor mixers(const Config& c) {
  c.check("the student's configuration");
  return [c](int64_t layer) -> std::unique_ptr<models::Block> {
    if (!c.converted(layer)) return nullptr;
    const qwen2::Config& b = c.body;
    if (c.mixer == MixerKind::Rwkv6) {
      models::TimeMix6Config m;
      m.layer = layer, m.layers = b.n_layer, m.width = b.hidden;
      m.heads = b.n_head, m.head_size = b.head_dim, m.kv_heads = b.n_kv_head;
      m.rank_shift = c.rank_tokenshift, m.rank_decay = c.rank_decay;
      m.rope_theta = c.use_rope ? b.rope_theta : 0.0;
      return std::make_unique<models::TimeMix6>(m);
    }
    models::TimeMix7Config m;
    m.form = c.rwkv7_form(), m.layer = layer, m.layers = b.n_layer, m.width = b.hidden;
    m.heads = b.n_head, m.head_size = b.head_dim, m.kv_heads = b.n_kv_head;
    m.rank_w = c.rank_decay, m.rank_a = c.rank_iclr, m.rank_v = c.rank_value, m.rank_g = c.rank_gate;
    m.rope_theta = c.use_rope ? b.rope_theta : 0.0;
    m.group_norm_eps = float(double(b.head_dim) * 1e-5);  // their GroupNorm: head_size * 1e-5
    return std::make_unique<models::TimeMix7>(m);
  };
}

void describe_student(models::Decoder& d, const Config& c) {
  models::DecoderInfo& info = d.info();
  info.architecture = c.mixer == MixerKind::Rwkv7 ? "rad_rwkv7" : "rad_rwkv6";
  info.shape = c.describe();
  info.state_file = kStateFile;
  info.chunk_f32 = 512, info.chunk_bf16 = 256;  // as RWKV-7's
}
}  // namespace

std::unique_ptr<models::Decoder> build(const Config& c) {
  std::unique_ptr<models::Decoder> d = qwen2::build(c.body, mixers(c));
  describe_student(*d, c);
  return d;
}

std::unique_ptr<models::Decoder> read(const Config& c, const io::Checkpoint& ck, const std::string& config_source,
                                      const DType* convert) {
  std::unique_ptr<models::Decoder> d =
      qwen2::read(c.body, ck, config_source, convert, mixers(c), concat("a ", c.describe(), " student"));
  describe_student(*d, c);
  return d;
}

Config folder_config(const std::string& folder) {
  const std::string cfg = (std::filesystem::path(folder) / "config.json").string();
  GANDER_CHECK(std::filesystem::exists(cfg), folder, ": no config.json (a RADLADS student is a Hugging Face folder)");
  return Config::from_json(io::JsonConfig::load(cfg));
}

std::unique_ptr<models::Decoder> read_folder(const std::string& folder, const DType* convert) {
  const Config c = folder_config(folder);
  std::unique_ptr<models::Decoder> d =
      read(c, io::load_checkpoint(folder), (std::filesystem::path(folder) / "config.json").string(), convert);
  d->info().source = folder;
  d->info().format = "folder";
  return d;
}

std::unique_ptr<models::Decoder> from_teacher(const models::Decoder& teacher, const Config& c, uint64_t seed) {
  GANDER_CHECK(teacher.info().architecture == "qwen2", "the teacher is ", teacher.info().architecture,
               " (", teacher.info().source, "); RADLADS converts Qwen2-family teachers");
  std::unique_ptr<models::Decoder> s = build(c);
  models::init_params(s->params(), DType::F32, seed, models::InitSet::Fresh);
  std::map<std::string, const models::Param*> by_name;
  for (const models::Param& p : teacher.params().params) by_name[p.as(models::Naming::Hf).name] = &p;
  const models::Param* embedding = by_name.at("model.embed_tokens.weight");
  for (const models::Param& p : s->params().params) {
    const std::string& name = p.as(models::Naming::Hf).name;
    auto it = by_name.find(name);
    const models::Param* from = it != by_name.end() ? it->second : nullptr;
    if (!from && name == "lm_head.weight") from = embedding;  // a tied teacher: the untied head starts as it
    if (!from) {
      // Only the converted mixers' own parameters are new.
      GANDER_CHECK(name.find(".self_attn.") != std::string::npos, "the teacher (", teacher.info().source,
                   ") has no tensor '", name, "' for the student (", c.describe(), ")");
      continue;
    }
    GANDER_CHECK(from->slot->layout() == Layout::RowMajor, "the teacher's weights are in tiles (load it for training)");
    GANDER_CHECK(from->shape == p.shape, "the teacher's '", name, "' is ", shape_str(from->shape), ", the student's ",
                 shape_str(p.shape), " (teacher ", teacher.info().shape, ", student ", c.describe(), ")");
    p.slot->copy_from(*from->slot);
  }
  s->info().source = "RADLADS student of " + teacher.info().source;
  s->info().format = "fresh";
  return s;
}

}  // namespace gander::radlads
