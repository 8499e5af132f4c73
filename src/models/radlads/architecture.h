// The rad_rwkv7 and rad_rwkv6 entries of the architecture registry (models/registry.h): RADLADS
// students as the release's Hugging Face folders (model_type rwkv7qwen2, rwkv6qwen2).
#pragma once
#include "models/registry.h"

namespace gander::radlads {
const models::Architecture& rwkv7_architecture();
const models::Architecture& rwkv6_architecture();
}  // namespace gander::radlads
