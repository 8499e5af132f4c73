// Byte-level BPE as Hugging Face `tokenizers` runs it for Qwen2 / Qwen2.5 (tokenizer.json):
// added tokens matched in the raw text first; NFC normalisation (utf8proc); the Split
// pre-tokenizer with the model's regex (PCRE2 with JIT, Unicode properties); GPT-2 byte-to-unicode
// mapping; merges applied by rank (with a per-word cache); byte-level decoding.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenize/tokenizer.h"

namespace gander {

class BpeTokenizer final : public Tokenizer {
 public:
  // Reads a Hugging Face tokenizer.json (at most 256 MiB, a regular file) and parses it with from_json_text.
  static std::unique_ptr<BpeTokenizer> from_file(const std::string& path);
  // Parses tokenizer.json text held in memory; `source` names it in errors (the fuzz target's entry).
  static std::unique_ptr<BpeTokenizer> from_json_text(std::string_view json_text, const std::string& source);
  ~BpeTokenizer() override;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  int64_t vocab_size() const override { return int64_t(id_to_token_.size()); }
  std::string name() const override { return "bpe"; }
  std::vector<int32_t> end_of_text() const override;
  int32_t special_id(const std::string& content) const override;

 private:
  BpeTokenizer() = default;
  void encode_word(const std::string& word, std::vector<int32_t>& out) const;
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;

  struct Added {
    std::string content;
    int32_t id;
  };
  std::string source_;
  std::vector<Added> added_;                       // longest first
  bool added_first_byte_[256] = {};
  std::unordered_map<std::string, int32_t> vocab_;  // byte-level string -> id
  std::vector<std::string> id_to_token_;            // id -> raw bytes (decoded form)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left, right) -> (rank, merged id)
  int32_t byte_token_[256] = {};                                      // byte -> id of its single-byte token
  bool nfc_ = false;
  struct Regex;
  std::unique_ptr<Regex> regex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace gander
