#pragma once
#include "models/qwen2/model.h"
#include "models/runner.h"

namespace gander::qwen2 {
std::unique_ptr<Runner> make_runner(std::unique_ptr<Model> model);
// KV-cache files: safetensors "layers.{l}.k" / ".v" [length, Hkv, hd] with the model's shape in the metadata.
void save_cache(const std::string& path, const KvCache& cache, const Config& c);
KvCache load_cache(const std::string& path, const Config& c);
}  // namespace gander::qwen2
