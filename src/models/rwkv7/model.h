// RWKV-7 (x070) as a configuration of the decoder: LayerNorms (ln0 on the looked-up embedding),
// the time mix in its Goose form (models/mixers/time_mix7.h) and the channel mix
// (models/blocks/channel_mix7.h), an untied head. Official RWKV-LM checkpoints (.pth or
// safetensors) and fla / Hugging Face ones load; sizes come from the tensor shapes, and every
// shape is checked, with errors naming the tensor, the expected and the actual shape.
#pragma once
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "models/decoder.h"
#include "models/rwkv7/config.h"

namespace gander::rwkv7 {

inline constexpr StateFileKind kStateFile{"gander-rwkv7-state", 1, "RWKV-7 state"};

// A decoder of this shape without weights (its table lists what to load or initialise).
std::unique_ptr<models::Decoder> build(const Config& c);
// The naming of a checkpoint (official or fla) and the sizes its shapes give.
models::Naming checkpoint_naming(const io::Checkpoint& ck);
Config config_of(const io::Checkpoint& ck);
// The weights of a checkpoint, matrices in `convert` if given; not finished (convert writes
// these as they are; load() finishes them for running).
std::unique_ptr<models::Decoder> read(const io::Checkpoint& ck, const DType* convert = nullptr);
std::shared_ptr<const models::Decoder> load(const io::Checkpoint& ck, const DType* convert = nullptr);
// Random weights of a given shape (official-style init scales), for benchmarks and tests.
std::shared_ptr<const models::Decoder> random(const Config& c, DType matrix_dtype, uint64_t seed);

// Names of a layer's state entries ("blocks.{l}.att_shift", ".wkv", ".ffn_shift").
std::string state_name(int64_t layer, const char* entry);
// A state-tuned initial state as users share them: a .pth/safetensors holding
// blocks.{l}.att.time_state [H, 64, 64] (the shift vectors start at zero).
// The orientation of shared files is not settled (RWKV-PEFT writes [head, key, value]; some tools
// [head, value, key]): key_major = true transposes into the WKV layout.
models::SequenceState load_time_state(const std::string& path, const models::Decoder& model, bool key_major = true);

}  // namespace gander::rwkv7
