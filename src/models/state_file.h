// Files of a sequence's state (RWKV-7 states, Qwen2 KV caches, any decoder's): safetensors with one
// tensor per state entry, and metadata naming the format and version, and the shape and weight
// fingerprint of the model that wrote it, checked on load so that a state from another model,
// even one of the same shape, is refused. Constant-size entries are always written; growing ones
// (KV caches) as their first `length` rows, and only when length > 0; models whose blocks read
// positions record the length ("length" metadata).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "io/checkpoint.h"
#include "models/sequence_state.h"

namespace gander {

struct StateFileKind {
  const char* format = "";  // metadata "format", e.g. "gander-rwkv7-state"
  int version = 1;
  const char* what = "";    // in messages: "RWKV-7 state", "Qwen2 KV-cache"
};

// Who a state file belongs to.
struct StateOwner {
  StateFileKind kind;
  std::string model_shape;  // the model's describe()
  uint64_t fingerprint = 0;
  int64_t max_length = 0;   // the longest length a file may claim (0: no limit)
};

std::map<std::string, std::string> state_file_metadata(const StateFileKind& kind, const std::string& model_shape,
                                                       uint64_t fingerprint);
// Throws "<file>: ..." unless format, version, shape and fingerprint all match.
void check_state_file(const io::Checkpoint& ck, const StateFileKind& kind, const std::string& model_shape,
                      uint64_t fingerprint);
// A metadata field the kind requires ("<file>: not a gander <what> file (no '<key>' metadata)").
const std::string& state_file_field(const io::Checkpoint& ck, const StateFileKind& kind, const std::string& key);

void save_sequence_state(const std::string& path, const models::SequenceState& s, const StateOwner& owner);
// Every field and tensor is checked (names, shapes, f32, the length within max_length) before any
// memory is sized by the file; tensors the layout does not have are refused.
models::SequenceState sequence_state_from_checkpoint(const io::Checkpoint& ck,
                                                     const std::shared_ptr<const models::StateLayout>& layout,
                                                     const StateOwner& owner);
models::SequenceState load_sequence_state(const std::string& path,
                                          const std::shared_ptr<const models::StateLayout>& layout,
                                          const StateOwner& owner);

}  // namespace gander
