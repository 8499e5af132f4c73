// Qwen2 weights: matrices stay in the checkpoint's storage (memory-mapped, Linear layout
// [out, in]); norms and biases become f32. Every tensor is checked against the config.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "models/param_table.h"
#include "models/qwen2/config.h"

namespace gander::qwen2 {

struct LayerWeights {
  Tensor input_norm, post_attn_norm;  // [D] f32
  Tensor q, k, v, o;                  // [H*hd, D], [Hkv*hd, D], [Hkv*hd, D], [D, H*hd]
  Tensor q_bias, k_bias, v_bias;      // f32
  Tensor gate, up, down;              // [I, D], [I, D], [D, I]
};

struct Weights {
  Config config;
  Tensor embed;       // [V, D]
  std::vector<LayerWeights> layers;
  Tensor final_norm;  // [D] f32
  Tensor lm_head;     // [V, D] (the embedding itself when tied)
  std::string source;
  // Every parameter, declared once (Hugging Face names, shapes, kinds, init); the table points into
  // this struct (a tied head is the embedding and not a parameter of its own).
  models::ParamTable params();
  // Every tensor under its Hugging Face name (the tied head is the embedding: visited once).
  void for_each(const std::function<void(const std::string&, const Tensor&)>& fn) const;
  int64_t bytes() const;
  uint64_t fingerprint() const;  // of the row-major weights (before tiling; see models/fingerprint.h)
};

// `folder` holds config.json and model.safetensors or a sharded index.
Weights load_folder(const std::string& folder);
Weights load_weights(const Config& config, const io::Checkpoint& ck, const std::string& config_source);
// Random weights of a given shape (std 0.02 matrices, unit norms), for benchmarks.
Weights random_weights(const Config& config, DType matrix_dtype, uint64_t seed);

}  // namespace gander::qwen2
