// PyTorch checkpoints (torch.save's zip format: <prefix>/data.pkl + <prefix>/data/<key> raw
// little-endian storages). Tensors are views into the memory-mapped archive.
#pragma once
#include <string>

#include "io/checkpoint.h"

namespace gander::io {
Checkpoint load_pth(const std::string& path);
// Same, on bytes already in memory (the fuzz target); tensors view `buffer`.
Checkpoint parse_pth(std::shared_ptr<Buffer> buffer, const std::string& source);
}  // namespace gander::io
