#include "models/qwen2/architecture.h"

#include <algorithm>
#include <filesystem>

#include "io/atomic_file.h"
#include "io/read_file.h"
#include "io/safetensors.h"

#include "models/qwen2/model.h"

namespace gander::qwen2 {

namespace {
bool has_qwen2_tensors(const io::Checkpoint& ck) {
  if (ck.contains("model.embed_tokens.weight")) return true;
  return std::any_of(ck.names().begin(), ck.names().end(),
                     [](const std::string& n) { return n.find(".self_attn.q_proj.weight") != std::string::npos; });
}

models::Detection detect(const models::ModelSource& s) {
  if (s.folder) {
    const auto& a = s.hf_architectures;
    const bool named = s.model_type == "qwen2" || std::find(a.begin(), a.end(), "Qwen2ForCausalLM") != a.end();
    return {named ? 2 : 0, {}};
  }
  if (s.checkpoint && has_qwen2_tensors(*s.checkpoint))
    return {0, "a weights file of a Hugging Face Qwen2-style model: give the folder that holds it with its "
               "config.json"};
  return {};
}

std::unique_ptr<Runner> make(std::shared_ptr<const models::Decoder> d, const models::LoadOptions& opt) {
  GANDER_CHECK(opt.time_state.empty(), "--time-state applies to RWKV-7 models only");
  models::SequenceState initial = d->new_state();
  return std::make_unique<Runner>(std::move(d), std::move(initial), models::RunOptions{.reference = opt.reference, .chunk = opt.chunk});
}

std::unique_ptr<Runner> load(models::ModelSource& s, const models::LoadOptions& opt) {
  GANDER_CHECK(opt.time_state.empty(), "--time-state applies to RWKV-7 models only");
  return make(load_folder(s.path, opt.convert ? &*opt.convert : nullptr), opt);
}

std::unique_ptr<Runner> random(const std::string& shape, const models::LoadOptions& opt) {
  return make(qwen2::random(Config::parse_shape(shape), opt.convert.value_or(DType::BF16), opt.seed), opt);
}

nlohmann::json describe(models::ModelSource& s) {
  const std::string cfg = (std::filesystem::path(s.path) / "config.json").string();
  const Config c = Config::from_json(io::JsonConfig::load(cfg));
  return {{"config", c.describe()},
          {"rope_theta", c.rope_theta},
          {"rms_norm_eps", std::stod(concat(c.rms_eps))},  // as written (a float's 7 digits), not 9.99999997e-07
          {"max_position_embeddings", c.max_positions}};
}
// A Hugging Face folder: model.safetensors, config.json (torch_dtype updated when converted) and the
// tokenizer and generation files beside them, so that the copy runs as the original does.
void save(models::ModelSource& s, const models::SaveOptions& o) {
  models::save_hf_copy(read_folder(s.path)->params(), s.path, o);
}
std::unique_ptr<models::Decoder> build_shape(const std::string& shape) { return build(Config::parse_shape(shape)); }

std::unique_ptr<models::Decoder> read_weights(models::ModelSource& s) { return read_folder(s.path); }

// A Hugging Face folder: the config of the folder it came from (torch_dtype float32 now), or one
// written from a fresh model's shape; the weights in f32; the tokenizer files.
void save_trained(const models::Decoder& d, const models::TrainedSave& o) {
  const std::string config =
      o.source.empty() ? Config::parse_shape(o.shape).to_json() : models::config_for_copy(o.source, DType::F32);
  models::write_hf_folder(d.params(), config, o.tokenizer, o.out);
}
}  // namespace

const models::Architecture& architecture() {
  static const models::Architecture a{
      .name = "qwen2",
      .summary = "Qwen2 / Qwen2.5: a Hugging Face folder (config.json, safetensors, tokenizer.json)",
      .random_example = "qwen2:L24,D896,H14,KV2,I4864,V151936,T",
      .chat_format = "chatml",
      .sampling = "transformers",
      .detect = detect,
      .load = load,
      .random = random,
      .describe = describe,
      .save = save,
      .build_shape = build_shape,
      .read_weights = read_weights,
      .save_trained = save_trained,
      .save_time_state = nullptr,
      .student_of = nullptr,
  };
  return a;
}

}  // namespace gander::qwen2
