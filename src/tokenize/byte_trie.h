// A byte trie for greedy longest-match lookups: the RWKV World vocabulary and BPE's added tokens.
// Built once from all its keys: they are sorted, then laid out depth-first in flat arrays, so
// the trie costs a few words per node and nothing is allocated per node (a vocabulary file cannot
// make it allocate much more than its own size). The first two levels are dense tables, because
// nearly every lookup passes through them.
#pragma once
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace gander {

class ByteTrie {
 public:
  // Longer keys are refused by the loaders: a lookup walks at most this many bytes, which bounds
  // the cost of each input position (real vocabularies stop at 128 bytes, special tokens at ~30).
  static constexpr size_t kMaxKeyBytes = 1024;

  ByteTrie() = default;
  // keys[i] (non-empty, at most kMaxKeyBytes, and alive during the call) maps to ids[i] (>= 0).
  // When two keys are equal, duplicate(first, second) is called with their indices in `keys`; it
  // throws to refuse the input, or returns to keep the first key's id.
  ByteTrie(std::span<const std::string_view> keys, std::span<const int32_t> ids,
           const std::function<void(size_t first, size_t second)>& duplicate);

  struct Match {
    int32_t id = -1;
    size_t length = 0;  // 0: no key is a prefix of the text
  };
  // The longest key that is a prefix of `text`.
  Match longest_prefix(std::string_view text) const;
  // The id of exactly this key, or -1.
  int32_t find(std::string_view key) const;
  // False when no key starts with this byte (a cheap test before longest_prefix).
  bool may_start_with(uint8_t byte) const { return !level1_.empty() && level1_[byte] != 0; }

 private:
  struct Node {
    int32_t id = -1;  // the key ending here, or -1
    uint32_t edge_begin = 0, edge_end = 0;
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  uint32_t child(uint32_t node, uint8_t byte) const;

  std::vector<Node> nodes_;     // nodes_[0] is the root
  std::vector<Edge> edges_;     // each node's edges, sorted by byte
  std::vector<uint32_t> level1_;  // byte -> node, 0 = absent
  std::vector<uint32_t> level2_;  // (b0 << 8 | b1) -> node, 0 = absent
};

// Inline: the tokenizers call this once per token, and the call would cost as much as the walk.
inline uint32_t ByteTrie::child(uint32_t node, uint8_t byte) const {
  const Node& n = nodes_[node];
  if (n.edge_end - n.edge_begin <= 64) {  // the usual case in a vocabulary: a scan beats a search
    for (uint32_t e = n.edge_begin; e < n.edge_end; ++e)
      if (edges_[e].byte == byte) return edges_[e].child;
    return 0;
  }
  const Edge* first = edges_.data() + n.edge_begin;
  const Edge* last = edges_.data() + n.edge_end;
  const Edge* it = std::lower_bound(first, last, byte, [](const Edge& e, uint8_t b) { return e.byte < b; });
  return it != last && it->byte == byte ? it->child : 0;
}

inline ByteTrie::Match ByteTrie::longest_prefix(std::string_view text) const {
  Match best;
  if (text.empty() || level1_.empty()) return best;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  uint32_t node = level1_[p[0]];
  if (!node) return best;
  if (nodes_[node].id >= 0) best = {nodes_[node].id, 1};
  if (text.size() < 2 || !(node = level2_[size_t(p[0]) << 8 | p[1]])) return best;
  if (nodes_[node].id >= 0) best = {nodes_[node].id, 2};
  // No node is deeper than the longest key, so this walks at most kMaxKeyBytes bytes.
  for (size_t j = 2; j < text.size(); ++j) {
    if (!(node = child(node, p[j]))) break;
    if (nodes_[node].id >= 0) best = {nodes_[node].id, j + 1};
  }
  return best;
}

}  // namespace gander
