#include "models/qwen2/architecture.h"

#include <algorithm>
#include <filesystem>

#include "models/qwen2/runner.h"
#include "models/qwen2/weights.h"

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

std::unique_ptr<Runner> make(Weights w, const models::LoadOptions& opt) {
  GANDER_CHECK(opt.time_state.empty(), "--time-state applies to RWKV-7 models only");
  ForwardOptions fo;
  if (opt.chunk > 0) fo.chunk = opt.chunk;
  return make_runner(std::make_unique<Model>(std::move(w), fo));
}

std::unique_ptr<Runner> load(models::ModelSource& s, const models::LoadOptions& opt) {
  GANDER_CHECK(opt.time_state.empty(), "--time-state applies to RWKV-7 models only");
  Weights w = load_folder(s.path);
  if (opt.convert) {
    models::convert_matrices(w.params(), *opt.convert);
    if (w.config.tied_embeddings) w.lm_head = w.embed;
  }
  return make(std::move(w), opt);
}

std::unique_ptr<Runner> random(const std::string& shape, const models::LoadOptions& opt) {
  return make(random_weights(Config::parse_shape(shape), opt.convert.value_or(DType::BF16), opt.seed), opt);
}

nlohmann::json describe(models::ModelSource& s) {
  const std::string cfg = (std::filesystem::path(s.path) / "config.json").string();
  const Config c = Config::from_json(io::JsonConfig::load(cfg));
  return {{"config", c.describe()},
          {"rope_theta", c.rope_theta},
          {"rms_norm_eps", std::stod(concat(c.rms_eps))},  // as written (a float's 7 digits), not 9.99999997e-07
          {"max_position_embeddings", c.max_positions}};
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
  };
  return a;
}

}  // namespace gander::qwen2
