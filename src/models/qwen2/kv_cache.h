// The Qwen2 KV cache (keys and values of every position seen so far, per layer) and its files.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "models/qwen2/config.h"

namespace gander::qwen2 {

// Per layer [capacity, Hkv, hd] f32, grown on demand; positions [0, length) are valid.
struct KvCache {
  std::vector<Tensor> k, v;
  int64_t length = 0;
  static KvCache empty(const Config& c);
  void reserve(const Config& c, int64_t positions);
  KvCache clone() const;
  void reset() { length = 0; }
  int64_t bytes() const;
};

// KV-cache files: safetensors "layers.{l}.k" / ".v" f32 [length, Hkv, hd] and metadata
// format="gander-qwen2-kv", version, the model's shape, its weight fingerprint and the length.
// Loading checks every field against the model and refuses tensors it does not expect.
inline constexpr int kKvCacheFormatVersion = 2;
void save_cache(const std::string& path, const KvCache& cache, const Config& c, uint64_t fingerprint);
KvCache load_cache(const std::string& path, const Config& c, uint64_t fingerprint);
KvCache cache_from_checkpoint(const io::Checkpoint& ck, const Config& c, uint64_t fingerprint);

}  // namespace gander::qwen2
