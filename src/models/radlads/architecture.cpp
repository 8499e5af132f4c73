#include "models/radlads/architecture.h"

#include <algorithm>
#include <filesystem>

#include "models/radlads/model.h"
#include "models/shape_spec.h"

namespace gander::radlads {

namespace {
models::Detection detect_rwkv7(const models::ModelSource& s) {
  if (!s.folder) return {};  // a student's weights alone look like a Qwen2 file (its hint covers them)
  const auto& a = s.hf_architectures;
  const bool named = s.model_type == "rwkv7qwen2" || std::find(a.begin(), a.end(), "RWKV7Qwen2ForCausalLM") != a.end();
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

std::unique_ptr<models::Decoder> build_rwkv7_shape(const std::string& shape) {
  return build(Config::parse_shape(shape, MixerKind::Rwkv7));
}

std::unique_ptr<Runner> random_rwkv7(const std::string& shape, const models::LoadOptions& opt) {
  const Config c = Config::parse_shape(shape, MixerKind::Rwkv7);
  std::shared_ptr<models::Decoder> d = build(c);
  d->info().source = "random rad_rwkv7 " + c.describe();
  d->info().format = "random";
  models::init_params(d->params(), opt.convert.value_or(DType::BF16), opt.seed);
  return make(std::move(d), opt);
}

nlohmann::json describe(models::ModelSource& s) {
  const Config c = folder_config(s.path);
  return {{"config", c.describe()},
          {"converted_layers", c.body.n_layer - c.attention_layers},
          {"attention_layers", c.attention_layers},
          {"lora_ranks", {{"decay", c.rank_decay}, {"iclr", c.rank_iclr}, {"value_residual", c.rank_value},
                          {"gate", c.rank_gate}}},
          {"rope_theta", c.use_rope ? c.body.rope_theta : 0.0}};
}

void save(models::ModelSource& s, const models::SaveOptions& o) {
  models::save_hf_copy(read_folder(s.path)->params(), s.path, o);
}

std::unique_ptr<models::Decoder> read_weights(models::ModelSource& s) { return read_folder(s.path); }

// `options`: G (the GroupNorm form), A<n> (attention layers), comma-separated; the teacher's
// dimensions come from its folder's config.json (its source).
models::ConvertedStudent student_of_rwkv7(const models::Decoder& teacher, const std::string& options, uint64_t seed) {
  const qwen2::Config t = qwen2::Config::from_json(
      io::JsonConfig::load((std::filesystem::path(teacher.info().source) / "config.json").string()));
  Config c = Config::for_teacher(t, MixerKind::Rwkv7);
  if (!options.empty())
    for (const auto& [key, v] : parse_shape_items(options)) {
      if (key == "A") c.attention_layers = v;
      else if (key == "G") c.balance_state = false, c.groupnorm_att = true;
      else fail("model.convert 'rad_rwkv7:", options, "': unknown option '", key, "' (G: GroupNorm form, A<n>: hybrid)");
    }
  c.check(concat("model.convert 'rad_rwkv7:", options, "'"));
  return {from_teacher(teacher, c, seed), c.to_json()};
}

void save_trained_rwkv7(const models::Decoder& d, const models::TrainedSave& o) {
  std::string config = !o.config_json.empty() ? o.config_json
                       : o.source.empty()     ? Config::parse_shape(o.shape, MixerKind::Rwkv7).to_json()
                                              : models::config_for_copy(o.source, DType::F32);
  models::write_hf_folder(d.params(), config, o.tokenizer, o.out);
}
}  // namespace

const models::Architecture& rwkv7_architecture() {
  static const models::Architecture a{
      .name = "rad_rwkv7",
      .summary = "RADLADS RAD-RWKV7 student of a Qwen2 teacher: a Hugging Face folder (model_type rwkv7qwen2)",
      .random_example = "rad_rwkv7:L24,D896,H14,KV2,I4864,V151936",
      .chat_format = "chatml",
      .sampling = "transformers",
      .detect = detect_rwkv7,
      .load = load,
      .random = random_rwkv7,
      .describe = describe,
      .save = save,
      .build_shape = build_rwkv7_shape,
      .read_weights = read_weights,
      .save_trained = save_trained_rwkv7,
      .save_time_state = nullptr,
      .student_of = student_of_rwkv7,
  };
  return a;
}

}  // namespace gander::radlads
