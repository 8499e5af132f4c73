// Each model's own sampling defaults, so that gander samples as the model's reference tooling does
// unless told otherwise:
//  - a model folder with generation_config.json: the file as transformers reads it (do_sample,
//    temperature, top_p, top_k, min_p, repetition_penalty, eos_token_id) on top of transformers'
//    defaults (greedy unless do_sample is true);
//  - otherwise the architecture's convention (models::Architecture::sampling): "transformers"
//    (Qwen2: transformers' defaults) or "rwkv" (RWKV-7: the official pipeline's, PIPELINE_ARGS for
//    generate and API_DEMO_CHAT for chat).
#pragma once
#include <string>
#include <vector>

#include "generate/sampler.h"

namespace gander {

struct SamplingDefaults {
  SamplingParams params;
  std::vector<int32_t> stop_tokens;  // generation_config.json's eos_token_id (one id or a list)
  std::string source;                // where they came from, for --help-like messages
};

// `convention`: "rwkv" or "transformers"; `model_folder`: the model path (read if a folder).
SamplingDefaults sampling_defaults(const std::string& convention, const std::string& model_folder, bool chat);

// Reads a generation_config.json over `base` (throws naming the file and field on bad values).
SamplingDefaults read_generation_config(const std::string& path, SamplingParams base);

}  // namespace gander
