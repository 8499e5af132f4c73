// safetensors: https://github.com/huggingface/safetensors (format: u64 LE header length N, N bytes
// of JSON, then raw little-endian data). Reading maps the file and validates the whole header
// before any tensor is used; writing is atomic (temp file, fsync, rename).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/checkpoint.h"

namespace gander::io {

// The largest header we accept; real headers are a few hundred KB at most.
inline constexpr uint64_t kMaxSafetensorsHeader = uint64_t(100) << 20;

Checkpoint load_safetensors(const std::string& path);
// Same validation on bytes already in memory (used by the fuzz target); tensors view `buffer`.
Checkpoint parse_safetensors(std::shared_ptr<Buffer> buffer, const std::string& source);
// Loads every shard listed in a model.safetensors.index.json's weight_map.
Checkpoint load_safetensors_index(const std::string& index_path);

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

const char* safetensors_dtype_name(DType t);  // "F32", "BF16", ...

}  // namespace gander::io
