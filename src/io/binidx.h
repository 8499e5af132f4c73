// Token shards in the binidx layout that RWKV-LM, RADLADS and Megatron read (Megatron's
// MMapIndexedDataset): PREFIX.bin holds the tokens of every document back to back, PREFIX.idx
// indexes them. Little-endian throughout:
//   .idx  "MMIDIDX\0\0"            9 bytes, the magic
//         u64 version = 1
//         u8  dtype code          1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 float64, 7 float32, 8 uint16
//         u64 sequences  (n)
//         u64 doc_index entries  (m = documents + 1)
//         i32 sizes[n]            tokens per sequence
//         i64 pointers[n]         byte offset of each sequence in .bin
//         i64 doc_index[m]        0, then the sequence count after each document
//   .bin  the tokens, sequences back to back, in the dtype above
// The format has no unsigned 32-bit code, so vocabularies of more than 65536 tokens use int32
// (code 4), as Megatron's own builder does; uint16 (code 8) below. Here one sequence is one
// document, ending with the tokenizer's end token.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "io/atomic_file.h"

namespace gander::io {

enum class TokenWidth : uint8_t { U16 = 8, I32 = 4 };  // the .idx dtype codes
TokenWidth token_width_for(int64_t vocab_size);
inline size_t token_bytes(TokenWidth w) { return w == TokenWidth::U16 ? 2 : 4; }

// Streams documents into PREFIX.bin and PREFIX.idx; both appear (atomically, .idx last) on
// commit(), neither if the writer is destroyed first.
class BinidxWriter {
 public:
  BinidxWriter(const std::string& prefix, TokenWidth width);
  void add_document(std::span<const int32_t> tokens);  // ids must fit the width
  void commit();
  int64_t documents() const { return int64_t(sizes_.size()); }
  int64_t tokens() const { return tokens_; }

 private:
  std::string prefix_;
  TokenWidth width_;
  AtomicFile bin_;
  std::vector<int32_t> sizes_;
  std::vector<uint8_t> staging_;
  int64_t tokens_ = 0;
};

// A shard opened for reading: both files memory-mapped, every count and offset of the index
// checked against the data file before anything is read (errors name the file and the field).
class BinidxReader {
 public:
  explicit BinidxReader(const std::string& prefix);
  TokenWidth width() const { return width_; }
  int64_t tokens() const { return tokens_; }  // in the whole .bin
  int64_t documents() const { return int64_t(sizes_.size()); }
  // Document d's tokens: [document_start(d), document_start(d) + document_size(d)).
  int64_t document_start(int64_t d) const { return starts_[size_t(d)]; }
  int64_t document_size(int64_t d) const { return sizes_[size_t(d)]; }
  // Tokens [offset, offset + out.size()) of the stream, widened to int32.
  void read(int64_t offset, std::span<int32_t> out) const;
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  std::shared_ptr<MappedFile> bin_;
  TokenWidth width_ = TokenWidth::U16;
  int64_t tokens_ = 0;
  std::vector<int32_t> sizes_;
  std::vector<int64_t> starts_;  // in tokens
};

}  // namespace gander::io
