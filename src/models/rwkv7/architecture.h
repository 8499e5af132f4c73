// The rwkv7 entry of the architecture registry (models/registry.h).
#pragma once
#include "models/registry.h"

namespace gander::rwkv7 {
const models::Architecture& architecture();
}  // namespace gander::rwkv7
