// The RADLADS students (spec radlads.md): a Qwen2 teacher's decoder with the attention of every
// layer but the last `attention_layers` replaced by a recurrent mixer (RAD-RWKV7: the time mix in a
// RADLADS form, models/mixers/time_mix7.h). Embeddings, norms, MLPs, final norm and head are the
// teacher's; weights under the release's Hugging Face names (the teacher's plus the mixer's, e.g.
// model.layers.0.self_attn.w0).
#pragma once
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "models/decoder.h"
#include "models/radlads/config.h"

namespace gander::radlads {

inline constexpr StateFileKind kStateFile{"gander-radlads-state", 1, "RADLADS student state"};

// A decoder of this configuration without weights.
std::unique_ptr<models::Decoder> build(const Config& c);
// Weights from a checkpoint (every tensor checked against the config named `config_source`); not finished.
std::unique_ptr<models::Decoder> read(const Config& c, const io::Checkpoint& ck, const std::string& config_source,
                                      const DType* convert = nullptr);
// A folder: config.json (model_type rwkv7qwen2 / rwkv6qwen2) and model.safetensors or shards.
Config folder_config(const std::string& folder);
std::unique_ptr<models::Decoder> read_folder(const std::string& folder, const DType* convert = nullptr);

// The RADLADS initialisation of a student of `teacher` (a Qwen2 decoder with row-major weights):
// the fresh mixer parameters by the RADLADS code's formulas (seeded), then every tensor the
// teacher has under the same name copied (q/k/v/o and biases into the mixer; a tied teacher's
// embedding also becomes the untied head). f32 row-major, not finished: ready to train.
std::unique_ptr<models::Decoder> from_teacher(const models::Decoder& teacher, const Config& c, uint64_t seed);

}  // namespace gander::radlads
