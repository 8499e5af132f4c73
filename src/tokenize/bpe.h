// Byte-level BPE as Hugging Face `tokenizers` runs it for Qwen2 / Qwen2.5 (tokenizer.json):
// added tokens matched in the raw text first (leftmost-longest, through a byte trie); NFC
// normalisation (utf8proc); the Split pre-tokenizer with the model's regex (split_regex.h); GPT-2
// byte-to-unicode mapping; merges applied by rank (bpe_merges.h, with a bounded per-piece cache);
// byte-level decoding.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenize/bpe_merges.h"
#include "tokenize/byte_trie.h"
#include "tokenize/split_regex.h"
#include "tokenize/tokenizer.h"

namespace gander {

class BpeTokenizer final : public Tokenizer {
 public:
  // Reads a Hugging Face tokenizer.json (a regular file of at most kMaxFileBytes) and parses it
  // with from_json_text.
  static constexpr uint64_t kMaxFileBytes = uint64_t(64) << 20;
  static std::unique_ptr<BpeTokenizer> from_file(const std::string& path);
  // Parses tokenizer.json text held in memory; `source` names it in errors (the fuzz target's entry).
  static std::unique_ptr<BpeTokenizer> from_json_text(std::string_view json_text, const std::string& source);
  ~BpeTokenizer() override;

  // Thread-safe (the piece cache is locked).
  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  int64_t vocab_size() const override { return int64_t(id_to_token_.size()); }
  std::string name() const override { return "bpe"; }
  std::vector<int32_t> end_of_text() const override;
  int32_t special_id(const std::string& content) const override;

 private:
  class Loader;  // bpe_load.cpp
  BpeTokenizer() = default;
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;
  void encode_plain(std::string_view text, SplitRegex::Scratch& scratch, std::vector<int32_t>& out) const;

  std::string source_;
  std::vector<std::string> added_content_;   // the added tokens' texts (the trie's keys point here)
  ByteTrie added_;                           // added token text -> id
  std::vector<std::string> id_to_token_;     // id -> raw bytes ("" = no token has this id)
  BpeMerges merges_;
  int32_t byte_token_[256] = {};             // byte -> id of its single-byte token
  bool nfc_ = false;
  std::unique_ptr<SplitRegex> regex_;

  // Pieces seen before and their ids. Only short pieces are kept, within a byte budget, so a
  // megabyte-long piece or an endless stream of new words cannot grow it without bound.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
  mutable size_t cache_bytes_ = 0;
};

}  // namespace gander
