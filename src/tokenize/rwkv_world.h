// The RWKV World tokenizer (rwkv_vocab_v20230424.txt): greedy longest byte match, left to right,
// over a trie of the 65529 vocabulary entries (byte_trie.h). Not BPE: no merges, no normalisation, no special
// tokens. Id 0 is not in the file; it is the end-of-document token and decodes to nothing.
#pragma once
#include "tokenize/byte_trie.h"
#include "tokenize/tokenizer.h"

namespace gander {

class RwkvWorldTokenizer final : public Tokenizer {
 public:
  // Reads the vocabulary file (a regular file of at most 16 MiB) and parses it with from_text.
  static RwkvWorldTokenizer from_file(const std::string& path);
  // Parses the vocabulary text itself; errors name `source`:<line>.
  static RwkvWorldTokenizer from_text(std::string_view text, const std::string& source);

  std::vector<int32_t> encode(std::string_view bytes) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  int64_t vocab_size() const override { return int64_t(tokens_.size()); }
  std::string name() const override { return "rwkv-world"; }
  std::vector<int32_t> end_of_text() const override { return {0}; }
  const std::string& token_bytes(int32_t id) const;

 private:
  std::vector<std::string> tokens_;  // id -> bytes ("" for id 0)
  ByteTrie trie_;                    // bytes -> id, for greedy longest matching
};

// Decodes one line's Python literal ('...', "...", b'...', b"...") into raw bytes (str literals
// are UTF-8 encoded, so a surrogate code point is an error, as it is for Python's encode). Exposed
// for tests.
std::string parse_python_literal(std::string_view lit, const std::string& where);

}  // namespace gander
