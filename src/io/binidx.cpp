#include "io/binidx.h"

#include <cstring>
#include <limits>

#include "core/error.h"
#include "io/read_file.h"

namespace gander::io {
namespace {

constexpr char kMagic[9] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', '\0', '\0'};
constexpr size_t kHeaderBytes = 9 + 8 + 1 + 8 + 8;

template <class T> void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // (little-endian hosts only, as everything gander maps)
  out.append(b, sizeof(T));
}
template <class T> T get(const std::string& in, size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}

}  // namespace

TokenWidth token_width_for(int64_t vocab_size) {
  GANDER_CHECK(vocab_size > 0 && vocab_size <= std::numeric_limits<int32_t>::max(), "a vocabulary of ", vocab_size,
               " tokens does not fit a token shard");
  return vocab_size <= 65536 ? TokenWidth::U16 : TokenWidth::I32;
}

BinidxWriter::BinidxWriter(const std::string& prefix, TokenWidth width)
    : prefix_(prefix), width_(width), bin_(prefix + ".bin") {
  check_writable(prefix + ".idx", "shard index");
}

void BinidxWriter::add_document(std::span<const int32_t> tokens) {
  GANDER_CHECK(tokens.size() <= size_t(std::numeric_limits<int32_t>::max()), prefix_, ".bin: a document of ",
               tokens.size(), " tokens is longer than the format's 32-bit sizes");
  const int64_t limit = width_ == TokenWidth::U16 ? 65535 : std::numeric_limits<int32_t>::max();
  const size_t at = staging_.size(), w = token_bytes(width_);
  staging_.resize(at + tokens.size() * w);
  uint8_t* p = staging_.data() + at;
  for (int32_t t : tokens) {
    GANDER_CHECK(t >= 0 && t <= limit, prefix_, ".bin: token id ", t, " does not fit the shard's ",
                 width_ == TokenWidth::U16 ? "uint16" : "int32", " tokens");
    if (width_ == TokenWidth::U16) {
      const uint16_t v = uint16_t(t);
      std::memcpy(p, &v, 2);
    } else {
      std::memcpy(p, &t, 4);
    }
    p += w;
  }
  sizes_.push_back(int32_t(tokens.size()));
  tokens_ += int64_t(tokens.size());
  if (staging_.size() >= (size_t(4) << 20)) {
    bin_.write(staging_.data(), staging_.size());
    staging_.clear();
  }
}

void BinidxWriter::commit() {
  bin_.write(staging_.data(), staging_.size());
  staging_.clear();
  const uint64_t n = sizes_.size();
  std::string idx(kMagic, sizeof(kMagic));
  put<uint64_t>(idx, 1);
  put<uint8_t>(idx, uint8_t(width_));
  put<uint64_t>(idx, n);
  put<uint64_t>(idx, n + 1);
  idx.reserve(idx.size() + n * 20 + 8);
  for (int32_t s : sizes_) put<int32_t>(idx, s);
  int64_t offset = 0;
  for (int32_t s : sizes_) put<int64_t>(idx, offset), offset += int64_t(s) * int64_t(token_bytes(width_));
  for (uint64_t d = 0; d <= n; ++d) put<int64_t>(idx, int64_t(d));
  bin_.commit();  // the data first: an index never points into a data file that is not there
  write_file(prefix_ + ".idx", idx);
}

BinidxReader::BinidxReader(const std::string& prefix) : prefix_(prefix) {
  const std::string idx_path = prefix + ".idx", bin_path = prefix + ".bin";
  const std::string idx = read_file(idx_path, uint64_t(16) << 30, "shard index");
  GANDER_CHECK(idx.size() >= kHeaderBytes && std::memcmp(idx.data(), kMagic, sizeof(kMagic)) == 0, idx_path,
               ": not a binidx shard index (no MMIDIDX header)");
  const uint64_t version = get<uint64_t>(idx, 9);
  GANDER_CHECK(version == 1, idx_path, ": binidx version ", version, " (this reader knows version 1)");
  const uint8_t code = get<uint8_t>(idx, 17);
  GANDER_CHECK(code == uint8_t(TokenWidth::U16) || code == uint8_t(TokenWidth::I32), idx_path, ": token dtype code ",
               int(code), " (gander reads uint16 (8) and int32 (4) shards)");
  width_ = TokenWidth(code);
  const uint64_t n = get<uint64_t>(idx, 18), m = get<uint64_t>(idx, 26);
  const uint64_t room = idx.size() - kHeaderBytes;
  GANDER_CHECK(n <= room / 12 && m <= room / 8 && n * 12 + m * 8 == room, idx_path, ": the index holds ", room,
               " bytes after its header, not the ", n, " sequences and ", m, " document entries it declares");
  bin_ = MappedFile::open(bin_path);
  const size_t w = token_bytes(width_);
  GANDER_CHECK(bin_->size() % w == 0, bin_path, ": ", bin_->size(), " bytes is not a whole number of ", w, "-byte tokens");
  tokens_ = int64_t(bin_->size() / w);
  sizes_.resize(n);
  starts_.resize(n);
  const size_t sizes_at = kHeaderBytes, pointers_at = sizes_at + n * 4, docs_at = pointers_at + n * 8;
  int64_t expect = 0;  // byte offset: sequences lie back to back, as every binidx reader of a token stream assumes
  for (uint64_t i = 0; i < n; ++i) {
    const int32_t size = get<int32_t>(idx, sizes_at + i * 4);
    const int64_t pointer = get<int64_t>(idx, pointers_at + i * 8);
    GANDER_CHECK(size >= 0, idx_path, ": sequence ", i, " has size ", size);
    GANDER_CHECK(pointer == expect, idx_path, ": sequence ", i, " starts at byte ", pointer, ", not ", expect,
                 " (sequences must lie back to back)");
    sizes_[i] = size;
    starts_[i] = expect / int64_t(w);
    expect += int64_t(size) * int64_t(w);
  }
  GANDER_CHECK(uint64_t(expect) == bin_->size(), bin_path, ": ", bin_->size(), " bytes, but its index ", idx_path,
               " describes ", expect, " (truncated or from another shard?)");
  GANDER_CHECK(m >= 1, idx_path, ": no document index");
  int64_t previous = 0;
  for (uint64_t d = 0; d < m; ++d) {
    const int64_t e = get<int64_t>(idx, docs_at + d * 8);
    GANDER_CHECK((d == 0 ? e == 0 : e >= previous) && uint64_t(e) <= n, idx_path, ": document index entry ", d, " is ",
                 e, " (must rise from 0 to the ", n, " sequences)");
    previous = e;
  }
  GANDER_CHECK(uint64_t(previous) == n, idx_path, ": the document index ends at ", previous, ", not at ", n, " sequences");
}

void BinidxReader::read(int64_t offset, std::span<int32_t> out) const {
  GANDER_CHECK(offset >= 0 && offset + int64_t(out.size()) <= tokens_, prefix_, ".bin: tokens [", offset, ", ",
               offset + int64_t(out.size()), ") are outside its ", tokens_);
  const std::byte* p = bin_->data() + offset * int64_t(token_bytes(width_));
  if (width_ == TokenWidth::U16) {
    for (size_t i = 0; i < out.size(); ++i) {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      out[i] = v;
    }
  } else {
    std::memcpy(out.data(), p, out.size() * 4);
  }
}

}  // namespace gander::io
