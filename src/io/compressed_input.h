// Reading an input file that may be gzip- or zstd-compressed (recognised by its first bytes,
// whatever its name), in pieces, through zlib and libzstd. Errors name the path.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace gander::io {

enum class Compression { None, Gzip, Zstd };
const char* compression_name(Compression c);

class CompressedInput {
 public:
  explicit CompressedInput(const std::string& path);
  ~CompressedInput();
  CompressedInput(const CompressedInput&) = delete;
  CompressedInput& operator=(const CompressedInput&) = delete;
  // Up to n decompressed bytes; 0 at the end. A truncated or corrupt stream throws.
  size_t read(char* out, size_t n);
  // The next line without its '\n' (and a '\r' before it); false at the end.
  bool next_line(std::string& line);
  // Everything left, up to max_bytes (more throws).
  std::string read_all(uint64_t max_bytes);
  Compression compression() const { return kind_; }
  uint64_t compressed_bytes_read() const { return raw_read_; }  // of the file, for progress

 private:
  size_t fill_raw();
  std::string path_;
  FILE* file_ = nullptr;
  Compression kind_ = Compression::None;
  struct Codec;
  std::unique_ptr<Codec> codec_;
  std::string raw_;  // compressed bytes read but not yet consumed
  size_t raw_at_ = 0;
  uint64_t raw_read_ = 0;
  bool raw_eof_ = false, stream_done_ = false;
  std::string pending_;  // decompressed bytes not yet returned by next_line
  size_t pending_at_ = 0;
};

}  // namespace gander::io
