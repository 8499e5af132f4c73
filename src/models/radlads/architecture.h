// The rad_rwkv7 entry of the architecture registry (models/registry.h): RADLADS students as the
// release's Hugging Face folders (model_type rwkv7qwen2).
#pragma once
#include "models/registry.h"

namespace gander::radlads {
const models::Architecture& rwkv7_architecture();
}  // namespace gander::radlads
