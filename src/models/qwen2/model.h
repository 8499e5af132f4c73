// Qwen2 / Qwen2.5 as a configuration of the decoder, as Hugging Face transformers computes it:
// RMSNorms, softmax attention with RoPE and grouped KV heads (models/mixers/attention.h), SwiGLU
// MLPs (models/blocks/swiglu.h), a head that may be the embedding itself. Its body also carries
// the RADLADS students: the same decoder with another mixer in some or all layers.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "models/decoder.h"
#include "models/qwen2/config.h"

namespace gander::qwen2 {

inline constexpr StateFileKind kKvFile{"gander-qwen2-kv", 2, "Qwen2 KV-cache"};

// The mixer of layer l, where it is not Qwen2's attention (RADLADS: the converted layers).
using MixerFor = std::function<std::unique_ptr<models::Block>(int64_t layer)>;

// A decoder of this shape without weights; `mixer` (if given) replaces attention where it returns one.
std::unique_ptr<models::Decoder> build(const Config& c, const MixerFor& mixer = {});
// Weights from a checkpoint, checked against the config (its file named in errors); not finished.
// `mixer` and `what` as for build (a RADLADS student: "a RAD-RWKV7 student ..." in errors).
std::unique_ptr<models::Decoder> read(const Config& c, const io::Checkpoint& ck, const std::string& config_source,
                                      const DType* convert = nullptr, const MixerFor& mixer = {},
                                      const std::string& what = "a Qwen2 model");
// `folder` holds config.json and model.safetensors or a sharded index.
std::unique_ptr<models::Decoder> read_folder(const std::string& folder, const DType* convert = nullptr);
std::shared_ptr<const models::Decoder> load_folder(const std::string& folder, const DType* convert = nullptr);
// Random weights of a given shape (std 0.02 matrices, unit norms), for benchmarks.
std::shared_ptr<const models::Decoder> random(const Config& c, DType matrix_dtype, uint64_t seed);

}  // namespace gander::qwen2
