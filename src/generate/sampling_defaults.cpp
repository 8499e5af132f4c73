#include "generate/sampling_defaults.h"

#include <filesystem>

#include "core/error.h"
#include "io/hf_config.h"

namespace gander {

SamplingDefaults read_generation_config(const std::string& path, SamplingParams p) {
  const io::JsonConfig j = io::JsonConfig::load(path);
  SamplingDefaults d;
  if (!j.get_bool_or("do_sample", false)) p.temperature = 0;
  else p.temperature = float(j.get_double_or("temperature", 1.0));
  p.top_p = float(j.get_double_or("top_p", p.top_p));
  p.top_k = j.get_int_or("top_k", p.top_k);
  p.min_p = float(j.get_double_or("min_p", p.min_p));
  p.repetition_penalty = float(j.get_double_or("repetition_penalty", p.repetition_penalty));
  try {
    p.validate();
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  if (j.has("eos_token_id")) {
    const auto& eos = j.json()["eos_token_id"];
    const auto add = [&](const nlohmann::json& v) {
      GANDER_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= INT32_MAX, path,
                   ": field 'eos_token_id' must be a token id or a list of them, got ", io::describe_json(v));
      d.stop_tokens.push_back(int32_t(v.get<int64_t>()));
    };
    if (eos.is_array())
      for (const auto& v : eos) add(v);
    else
      add(eos);
  }
  d.params = p;
  d.source = path;
  return d;
}

SamplingDefaults sampling_defaults(const std::string& convention, const std::string& model_folder, bool chat) {
  std::error_code ec;
  const auto cfg = std::filesystem::path(model_folder) / "generation_config.json";
  if (!model_folder.empty() && std::filesystem::is_directory(model_folder, ec) && std::filesystem::is_regular_file(cfg, ec))
    return read_generation_config(cfg.string(), SamplingParams::hf_defaults());
  if (convention == "transformers")
    return {SamplingParams::hf_defaults(), {}, "transformers' defaults (no generation_config.json)"};
  GANDER_CHECK(convention == "rwkv", "sampling defaults: unknown convention '", convention, "'");
  return {chat ? SamplingParams::chat_defaults() : SamplingParams::pipeline_defaults(), {},
          chat ? "the official RWKV chat demo's defaults" : "the official RWKV pipeline's defaults"};
}

}  // namespace gander
