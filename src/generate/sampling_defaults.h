// Each model family's own sampling defaults, so that gander samples as the model's reference
// tooling does unless told otherwise.
//  - RWKV-7: the official pipeline's (PIPELINE_ARGS for generate, API_DEMO_CHAT for chat).
//  - Qwen2: the folder's generation_config.json as transformers reads it (do_sample, temperature,
//    top_p, top_k, min_p, repetition_penalty, eos_token_id), on top of transformers' defaults
//    (greedy unless do_sample is true). Without the file, transformers' defaults.
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

// `architecture` is Runner::architecture(); `model_folder` the model path (a folder for Qwen2).
SamplingDefaults sampling_defaults(const std::string& architecture, const std::string& model_folder, bool chat);

// Reads a generation_config.json over `base` (throws naming the file and field on bad values).
SamplingDefaults read_generation_config(const std::string& path, SamplingParams base);

}  // namespace gander
