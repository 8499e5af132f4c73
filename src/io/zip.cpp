#include "io/zip.h"

#include <algorithm>

#include "core/error.h"

namespace gander::io {

namespace {
constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfCentral = 0x06054b50;
constexpr uint32_t kZip64EndOfCentral = 0x06064b50, kZip64Locator = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;

struct Reader {
  const std::byte* base;
  uint64_t size;
  const std::string& source;
  void need(uint64_t off, uint64_t n, const char* what) const {
    GANDER_CHECK(off <= size && n <= size - off, source, ": truncated zip archive (", what, " at byte ", off, ")");
  }
  uint64_t le(uint64_t off, int bytes, const char* what) const {
    need(off, uint64_t(bytes), what);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | uint64_t(base[off + uint64_t(i)]);
    return v;
  }
};
}  // namespace

ZipArchive::ZipArchive(const Buffer& bytes, std::string source, MemoryBudget& budget) : source_(std::move(source)) {
  const Reader rd{bytes.data(), bytes.size(), source_};
  GANDER_CHECK(rd.size >= 22, source_, ": not a zip archive (too short)");
  GANDER_CHECK(rd.le(0, 4, "magic") == kLocalHeader, source_, ": not a zip archive (wrong magic)");
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  uint64_t eocd = UINT64_MAX;
  const uint64_t lowest = rd.size > 65557 ? rd.size - 65557 : 0;
  for (uint64_t p = rd.size - 22 + 1; p-- > lowest;)
    if (rd.le(p, 4, "end record") == kEndOfCentral) {
      eocd = p;
      break;
    }
  GANDER_CHECK(eocd != UINT64_MAX, source_, ": zip end-of-central-directory record not found (truncated file?)");
  uint64_t count = rd.le(eocd + 10, 2, "entry count"), cd_size = rd.le(eocd + 12, 4, "directory size");
  uint64_t cd_offset = rd.le(eocd + 16, 4, "directory offset");
  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    GANDER_CHECK(eocd >= 20 && rd.le(eocd - 20, 4, "zip64 locator") == kZip64Locator, source_,
                 ": zip64 archive without a zip64 locator");
    const uint64_t z = rd.le(eocd - 20 + 8, 8, "zip64 record offset");
    GANDER_CHECK(rd.le(z, 4, "zip64 end record") == kZip64EndOfCentral, source_, ": bad zip64 end record");
    count = rd.le(z + 32, 8, "zip64 entry count");
    cd_size = rd.le(z + 40, 8, "zip64 directory size");
    cd_offset = rd.le(z + 48, 8, "zip64 directory offset");
  }
  rd.need(cd_offset, cd_size, "central directory");
  GANDER_CHECK(count <= cd_size / 46, source_, ": zip directory claims ", count, " entries in ", cd_size, " bytes");
  budget.charge(count * sizeof(ZipEntry), "the zip directory");
  entries_.reserve(count);
  uint64_t p = cd_offset;
  for (uint64_t i = 0; i < count; ++i) {
    GANDER_CHECK(rd.le(p, 4, "directory entry") == kCentralHeader, source_, ": corrupt zip directory entry ", i);
    const uint16_t method = uint16_t(rd.le(p + 10, 2, "method"));
    uint64_t csize = rd.le(p + 20, 4, "size"), usize = rd.le(p + 24, 4, "size");
    const uint64_t name_len = rd.le(p + 28, 2, "name"), extra_len = rd.le(p + 30, 2, "extra");
    const uint64_t comment_len = rd.le(p + 32, 2, "comment");
    uint64_t local = rd.le(p + 42, 4, "offset");
    rd.need(p + 46, name_len + extra_len + comment_len, "directory entry");
    const std::string_view name(reinterpret_cast<const char*>(rd.base + p + 46), name_len);
    // ZIP64 extra field: the 64-bit values follow in a fixed order, present only for saturated fields.
    const uint64_t extra_end = p + 46 + name_len + extra_len;
    for (uint64_t e = p + 46 + name_len; e + 4 <= extra_end;) {
      const uint64_t id = rd.le(e, 2, "extra"), len = rd.le(e + 2, 2, "extra");
      if (id == kZip64ExtraId) {
        uint64_t q = e + 4;
        auto next64 = [&](const char* what) {
          GANDER_CHECK(q + 8 <= e + 4 + len, source_, ": zip64 field of entry ", quote_name(name), " is too short");
          q += 8;
          return rd.le(q - 8, 8, what);
        };
        if (usize == 0xffffffff) usize = next64("zip64 size");
        if (csize == 0xffffffff) csize = next64("zip64 size");
        if (local == 0xffffffff) local = next64("zip64 offset");
      }
      e += 4 + len;
    }
    GANDER_CHECK(rd.le(local, 4, "local header") == kLocalHeader, source_, ": entry ", quote_name(name),
                 " has a corrupt local header");
    const uint64_t data = local + 30 + rd.le(local + 26, 2, "local name") + rd.le(local + 28, 2, "local extra");
    rd.need(data, csize, "entry data");
    GANDER_CHECK(method != 0 || csize == usize, source_, ": stored entry ", quote_name(name), " has inconsistent sizes");
    entries_.push_back(ZipEntry{name, data, csize, method});
    p += 46 + name_len + extra_len + comment_len;
  }
  std::sort(entries_.begin(), entries_.end(), [](const ZipEntry& a, const ZipEntry& b) { return a.name < b.name; });
  // Two entries of one name: which one a reader sees would depend on the reader.
  for (size_t i = 1; i < entries_.size(); ++i)
    GANDER_CHECK(entries_[i].name != entries_[i - 1].name, source_, ": zip entry ", quote_name(entries_[i].name),
                 " appears twice");
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const ZipEntry& e, std::string_view n) { return e.name < n; });
  return it != entries_.end() && it->name == name ? &*it : nullptr;
}

const ZipEntry& ZipArchive::stored(std::string_view name) const {
  const ZipEntry* e = find(name);
  GANDER_CHECK(e, source_, ": archive entry ", quote_name(name), " is missing");
  GANDER_CHECK(e->method == 0, source_, ": archive entry ", quote_name(name), " is compressed (method ", e->method,
               "); torch.save writes stored entries");
  return *e;
}

}  // namespace gander::io
