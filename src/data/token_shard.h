// A token shard as training and scoring use it: the binidx files (io/binidx.h) and, beside them,
// PREFIX.json saying which tokenizer made the tokens (its name, vocabulary size, end token and a
// fingerprint of its vocabulary) and what went in. Opening checks the shard against the
// tokenizer or model it is meant for, so tokens from another vocabulary never reach a model.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/binidx.h"
#include "tokenize/tokenizer.h"

namespace gander::data {

// A hash of every id's bytes: two tokenizers with the same fingerprint encode text alike.
std::string tokenizer_fingerprint(const Tokenizer& t);

struct ShardInfo {
  std::string tokenizer, fingerprint;
  int64_t vocab_size = 0, end_token = -1;
  int64_t documents = 0, tokens = 0, input_bytes = 0;
  std::vector<std::string> sources;
};
void write_shard_info(const std::string& prefix, const ShardInfo& info);
// PREFIX.json if it exists (a shard written by RWKV-LM's or Megatron's tools has none).
std::optional<ShardInfo> read_shard_info(const std::string& prefix);

class TokenShard {
 public:
  // Opens PREFIX.bin/.idx. With a tokenizer, a PREFIX.json must name the same vocabulary (size
  // and fingerprint). With a vocabulary size (a model's): every token must be below it (checked
  // once over the whole shard where no PREFIX.json vouches for it: RWKV-LM's and Megatron's
  // shards have none).
  TokenShard(const std::string& prefix, const Tokenizer* tokenizer, int64_t model_vocab);
  const io::BinidxReader& reader() const { return reader_; }
  const std::optional<ShardInfo>& info() const { return info_; }
  int64_t tokens() const { return reader_.tokens(); }
  void read(int64_t offset, std::span<int32_t> out) const { reader_.read(offset, out); }

 private:
  io::BinidxReader reader_;
  std::optional<ShardInfo> info_;
};

}  // namespace gander::data
