// A read-only view of a ZIP archive's stored (uncompressed) entries, as torch.save writes them,
// including ZIP64 archives (checkpoints over 4 GB). Compressed entries are reported, not inflated.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "core/buffer.h"

namespace gander::io {

struct ZipEntry {
  uint64_t data_offset = 0;  // absolute offset of the entry's bytes in the archive
  uint64_t size = 0;         // bytes stored in the archive (validated to lie inside it)
  uint16_t method = 0;       // 0 = stored (then size is also the entry's length)
};

class ZipArchive {
 public:
  // Validates the central directory and every local header; throws naming `source`.
  ZipArchive(const Buffer& bytes, std::string source);
  const std::map<std::string, ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;
  // The entry's bytes; throws if missing or compressed.
  const ZipEntry& stored(const std::string& name) const;

 private:
  std::string source_;
  std::map<std::string, ZipEntry> entries_;
};

}  // namespace gander::io
