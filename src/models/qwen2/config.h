// Qwen2 / Qwen2.5 dimensions, from a Hugging Face config.json, checked against the weights.
#pragma once
#include <cstdint>
#include <string>

#include "io/hf_config.h"

namespace gander::qwen2 {

struct Config {
  int64_t n_layer = 0, hidden = 0, intermediate = 0;
  int64_t n_head = 0, n_kv_head = 0, head_dim = 0, vocab = 0;
  double rope_theta = 10000.0;
  float rms_eps = 1e-6f;
  bool tied_embeddings = false;
  int64_t max_positions = 0;

  // Accepts the top-level rope_theta of released Qwen2.5 configs and the rope_parameters object
  // that newer transformers write; rejects RoPE scaling types this engine does not implement.
  // The RADLADS students' configs are Qwen2's keys under another model_type.
  static Config from_json(const io::JsonConfig& j, const std::string& model_type = "qwen2");
  std::string describe() const;
  // "L24,D896,H14,KV2,I4864,V151936[,HD64][,T]" (T = tied embeddings) for random models.
  static Config parse_shape(const std::string& spec);
  // The config.json transformers reads for these dimensions (f32 weights).
  std::string to_json() const;
};

}  // namespace gander::qwen2
