// A read-only view of a ZIP archive's stored (uncompressed) entries, as torch.save writes them,
// including ZIP64 archives (checkpoints over 4 GB). Compressed entries are reported, not inflated.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/buffer.h"
#include "io/checkpoint.h"

namespace gander::io {

struct ZipEntry {
  std::string_view name;     // points into the archive's bytes
  uint64_t data_offset = 0;  // absolute offset of the entry's bytes in the archive
  uint64_t size = 0;         // bytes stored in the archive (validated to lie inside it)
  uint16_t method = 0;       // 0 = stored (then size is also the entry's length)
};

class ZipArchive {
 public:
  // Validates the central directory and every local header; throws naming `source`, also for a
  // name that appears twice. The entries point into `bytes`, which must outlive the archive;
  // their memory is charged to `budget`.
  ZipArchive(const Buffer& bytes, std::string source, MemoryBudget& budget);
  const std::vector<ZipEntry>& entries() const { return entries_; }  // sorted by name
  const ZipEntry* find(std::string_view name) const;
  // The entry's bytes; throws if missing or compressed.
  const ZipEntry& stored(std::string_view name) const;

 private:
  std::string source_;
  std::vector<ZipEntry> entries_;
};

}  // namespace gander::io
