// The recurrent state of an RWKV-7 model: per layer the time-mix and channel-mix shift vectors
// (the LayerNorm output of the last token) and the f32 WKV matrices [H, 64, 64] laid out
// [head, value i, key j] as in the official code. Constant size, whatever the context length.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "models/rwkv7/config.h"

namespace gander::rwkv7 {

inline constexpr int kStateFormatVersion = 1;

struct State {
  std::vector<Tensor> att_shift;  // [C] f32 per layer
  std::vector<Tensor> wkv;        // [H, 64, 64] f32 per layer
  std::vector<Tensor> ffn_shift;  // [C] f32 per layer

  static State zeros(const Config& c);
  State clone() const;  // a deep copy, for forking a conversation
  void reset();         // back to zeros
  bool matches(const Config& c) const;
  int64_t bytes() const;
};

// State files: safetensors with tensors "blocks.{l}.att_shift", "blocks.{l}.wkv",
// "blocks.{l}.ffn_shift" and metadata format="gander-rwkv7-state", version, the model's shape and
// its weight fingerprint. Loading checks all of it against the model.
void save_state(const std::string& path, const State& s, const Config& c, uint64_t fingerprint);
State load_state(const std::string& path, const Config& c, uint64_t fingerprint);
// The same checks on a checkpoint already open (its source names it in errors).
State state_from_checkpoint(const io::Checkpoint& ck, const Config& c, uint64_t fingerprint);

// A state-tuned initial state as users share them: a .pth/safetensors holding
// blocks.{l}.att.time_state [H, 64, 64] (the shift vectors start at zero).
// The orientation of shared files is not settled (RWKV-PEFT writes [head, key, value]; some tools
// [head, value, key]): key_major = true transposes into the WKV layout.
State load_time_state(const std::string& path, const Config& c, bool key_major = true);

}  // namespace gander::rwkv7
