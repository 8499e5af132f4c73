// The RWKV World tokenizer (rwkv_vocab_v20230424.txt): greedy longest byte match, left to right,
// over a trie of the 65529 vocabulary entries. Not BPE: no merges, no normalisation, no special
// tokens. Id 0 is not in the file; it is the end-of-document token and decodes to nothing.
#pragma once
#include <array>

#include "tokenize/tokenizer.h"

namespace gander {

class RwkvWorldTokenizer final : public Tokenizer {
 public:
  static RwkvWorldTokenizer from_file(const std::string& path);
  // Parses the vocabulary text itself (`source` names it in errors).
  static RwkvWorldTokenizer from_text(std::string_view text, const std::string& source);

  std::vector<int32_t> encode(std::string_view bytes) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  int64_t vocab_size() const override { return int64_t(tokens_.size()); }
  std::string name() const override { return "rwkv-world"; }
  std::vector<int32_t> end_of_text() const override { return {0}; }
  const std::string& token_bytes(int32_t id) const;

 private:
  void insert(const std::string& bytes, int32_t id);
  void finish();
  // Trie: every node has the id of the token ending there (0 = none) and a sorted edge range.
  // The first two levels are dense tables, because nearly every match passes through them.
  struct Node {
    int32_t token = 0;
    uint32_t edge_begin = 0, edge_end = 0;
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  std::vector<std::string> tokens_;  // id -> bytes ("" for id 0)
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<uint32_t> level2_;     // (b0 << 8 | b1) -> node, 0 = absent
  std::vector<std::vector<std::pair<uint8_t, uint32_t>>> build_children_;  // only while building
  uint32_t child(uint32_t node, uint8_t byte) const;
};

// Decodes one line's Python literal ('...', "...", b'...', b"...") into raw bytes (str literals
// are UTF-8 encoded). Exposed for tests.
std::string parse_python_literal(std::string_view lit, const std::string& where);

}  // namespace gander
