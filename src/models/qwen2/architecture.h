// The qwen2 entry of the architecture registry (models/registry.h).
#pragma once
#include "models/registry.h"

namespace gander::qwen2 {
const models::Architecture& architecture();
}  // namespace gander::qwen2
