// The metadata every file of a sequence's state carries (RWKV-7 states, Qwen2 KV caches): its
// format and version, and the shape and weight fingerprint of the model that wrote it, checked
// on load so that a state from another model, even one of the same shape, is refused.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "io/checkpoint.h"

namespace gander {

struct StateFileKind {
  const char* format;  // metadata "format", e.g. "gander-rwkv7-state"
  int version;
  const char* what;    // in messages: "RWKV-7 state", "Qwen2 KV-cache"
};

std::map<std::string, std::string> state_file_metadata(const StateFileKind& kind, const std::string& model_shape,
                                                       uint64_t fingerprint);
// Throws "<file>: ..." unless format, version, shape and fingerprint all match.
void check_state_file(const io::Checkpoint& ck, const StateFileKind& kind, const std::string& model_shape,
                      uint64_t fingerprint);
// A metadata field the kind requires ("<file>: not a gander <what> file (no '<key>' metadata)").
const std::string& state_file_field(const io::Checkpoint& ck, const StateFileKind& kind, const std::string& key);

}  // namespace gander
