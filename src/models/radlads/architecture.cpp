#include "models/radlads/architecture.h"

#include <algorithm>
#include <filesystem>

#include "models/radlads/model.h"
#include "models/shape_spec.h"

namespace gander::radlads {

namespace {
// The entry's name for a mixer kind ("rad_rwkv7"), and its model_type and HF architecture.
constexpr const char* entry_name(MixerKind k) { return k == MixerKind::Rwkv7 ? "rad_rwkv7" : "rad_rwkv6"; }

template <MixerKind K>
models::Detection detect(const models::ModelSource& s) {
  if (!s.folder) return {};  // a student's weights alone look like a Qwen2 file (its hint covers them)
  Config c;
  c.mixer = K;
  const auto& a = s.hf_architectures;
  const bool named = s.model_type == c.model_type() || std::find(a.begin(), a.end(), c.hf_architecture()) != a.end();
  return {named ? 2 : 0, {}};
}

std::unique_ptr<Runner> make(std::shared_ptr<models::Decoder> d, const models::LoadOptions& opt) {
  GANDER_CHECK(opt.time_state.empty(), "--time-state applies to RWKV-7 models only");
  d->finish();
  models::SequenceState initial = d->new_state();
  return std::make_unique<Runner>(std::move(d), std::move(initial),
                                  models::RunOptions{.reference = opt.reference, .chunk = opt.chunk});
}

std::unique_ptr<Runner> load(models::ModelSource& s, const models::LoadOptions& opt) {
  GANDER_CHECK(opt.time_state.empty(), "--time-state applies to RWKV-7 models only");
  return make(read_folder(s.path, opt.convert ? &*opt.convert : nullptr), opt);
}

template <MixerKind K>
std::unique_ptr<models::Decoder> build_shape(const std::string& shape) {
  return build(Config::parse_shape(shape, K));
}

template <MixerKind K>
std::unique_ptr<Runner> random(const std::string& shape, const models::LoadOptions& opt) {
  const Config c = Config::parse_shape(shape, K);
  std::shared_ptr<models::Decoder> d = build(c);
  d->info().source = concat("random ", entry_name(K), " ", c.describe());
  d->info().format = "random";
  models::init_params(d->params(), opt.convert.value_or(DType::BF16), opt.seed);
  return make(std::move(d), opt);
}

nlohmann::json describe(models::ModelSource& s) {
  const Config c = folder_config(s.path);
  return {{"config", c.describe()},
          {"converted_layers", c.body.n_layer - c.attention_layers},
          {"attention_layers", c.attention_layers},
          {"lora_ranks", c.mixer == MixerKind::Rwkv7
                             ? nlohmann::json{{"decay", c.rank_decay}, {"iclr", c.rank_iclr},
                                              {"value_residual", c.rank_value}, {"gate", c.rank_gate}}
                             : nlohmann::json{{"decay", c.rank_decay}, {"tokenshift", c.rank_tokenshift}}},
          {"rope_theta", c.use_rope ? c.body.rope_theta : 0.0}};
}

void save(models::ModelSource& s, const models::SaveOptions& o) {
  models::save_hf_copy(read_folder(s.path)->params(), s.path, o);
}

std::unique_ptr<models::Decoder> read_weights(models::ModelSource& s) { return read_folder(s.path); }

// `options`: G (RAD-RWKV7's GroupNorm form), A<n> (attention layers), comma-separated; the
// teacher's dimensions come from its folder's config.json (its source).
template <MixerKind K>
models::ConvertedStudent student_of(const models::Decoder& teacher, const std::string& options, uint64_t seed) {
  const qwen2::Config t = qwen2::Config::from_json(
      io::JsonConfig::load((std::filesystem::path(teacher.info().source) / "config.json").string()));
  Config c = Config::for_teacher(t, K);
  const std::string where = concat("model.convert '", entry_name(K), ":", options, "'");
  if (!options.empty())
    for (const auto& [key, v] : parse_shape_items(options)) {
      if (key == "A") c.attention_layers = v;
      else if (key == "G" && K == MixerKind::Rwkv7) c.balance_state = false, c.groupnorm_att = true;
      else fail(where, ": unknown option '", key, K == MixerKind::Rwkv7 ? "' (G: GroupNorm form, A<n>: hybrid)" : "' (A<n>: hybrid)");
    }
  c.check(where);
  return {from_teacher(teacher, c, seed), c.to_json()};
}

template <MixerKind K>
void save_trained(const models::Decoder& d, const models::TrainedSave& o) {
  std::string config = !o.config_json.empty() ? o.config_json
                       : o.source.empty()     ? Config::parse_shape(o.shape, K).to_json()
                                              : models::config_for_copy(o.source, DType::F32);
  models::write_hf_folder(d.params(), config, o.tokenizer, o.out);
}

template <MixerKind K>
models::Architecture entry(const char* summary, const char* random_example) {
  return {
      .name = entry_name(K),
      .summary = summary,
      .random_example = random_example,
      .chat_format = "chatml",
      .sampling = "transformers",
      .detect = detect<K>,
      .load = load,
      .random = random<K>,
      .describe = describe,
      .save = save,
      .build_shape = build_shape<K>,
      .read_weights = read_weights,
      .save_trained = save_trained<K>,
      .save_time_state = nullptr,
      .student_of = student_of<K>,
  };
}
}  // namespace

const models::Architecture& rwkv7_architecture() {
  static const models::Architecture a = entry<MixerKind::Rwkv7>(
      "RADLADS RAD-RWKV7 student of a Qwen2 teacher: a Hugging Face folder (model_type rwkv7qwen2)",
      "rad_rwkv7:L24,D896,H14,KV2,I4864,V151936");
  return a;
}

const models::Architecture& rwkv6_architecture() {
  static const models::Architecture a = entry<MixerKind::Rwkv6>(
      "RADLADS RAD-RWKV6 student of a Qwen2 teacher: a Hugging Face folder (model_type rwkv6qwen2)",
      "rad_rwkv6:L24,D896,H14,KV2,I4864,V151936");
  return a;
}

}  // namespace gander::radlads
