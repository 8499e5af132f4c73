#include "tokenize/byte_trie.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace gander {

ByteTrie::ByteTrie(std::span<const std::string_view> keys, std::span<const int32_t> ids,
                   const std::function<void(size_t, size_t)>& duplicate) {
  GANDER_CHECK(keys.size() == ids.size() && keys.size() < UINT32_MAX, "ByteTrie: ", keys.size(), " keys but ",
               ids.size(), " ids");
  for (size_t i = 0; i < keys.size(); ++i)
    GANDER_CHECK(!keys[i].empty() && keys[i].size() <= kMaxKeyBytes && ids[i] >= 0, "ByteTrie: key ", i,
                 " is empty, longer than ", kMaxKeyBytes, " bytes or has a negative id");
  // Sorted keys put every prefix right before its extensions, so each node owns one contiguous range
  // of them; stable, so that duplicates meet in input order.
  std::vector<uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });

  // Breadth first: node i's keys are order[lo, hi), all sharing their first `depth` bytes. A node's
  // children are created together, so its edges are contiguous (and sorted by byte).
  struct Range {
    uint32_t lo, hi, depth;
  };
  std::vector<Range> ranges{{0, uint32_t(keys.size()), 0}};
  nodes_.emplace_back();
  for (uint32_t node = 0; node < nodes_.size(); ++node) {
    auto [lo, hi, depth] = ranges[node];
    if (lo < hi && keys[order[lo]].size() == depth) {  // the key ending here sorts first in its range
      const uint32_t first = lo++;
      nodes_[node].id = ids[order[first]];
      while (lo < hi && keys[order[lo]].size() == depth) duplicate(order[first], order[lo++]);
    }
    nodes_[node].edge_begin = uint32_t(edges_.size());
    while (lo < hi) {
      const auto byte = static_cast<uint8_t>(keys[order[lo]][depth]);
      uint32_t end = lo + 1;
      while (end < hi && static_cast<uint8_t>(keys[order[end]][depth]) == byte) ++end;
      edges_.push_back({byte, uint32_t(nodes_.size())});
      nodes_.emplace_back();
      ranges.push_back({lo, end, depth + 1});
      lo = end;
    }
    nodes_[node].edge_end = uint32_t(edges_.size());
  }
  nodes_.shrink_to_fit();
  edges_.shrink_to_fit();

  level1_.assign(256, 0);
  level2_.assign(65536, 0);
  for (uint32_t e = nodes_[0].edge_begin; e < nodes_[0].edge_end; ++e) {
    const Edge& first = edges_[e];
    level1_[first.byte] = first.child;
    const Node& n1 = nodes_[first.child];
    for (uint32_t f = n1.edge_begin; f < n1.edge_end; ++f)
      level2_[size_t(first.byte) << 8 | edges_[f].byte] = edges_[f].child;
  }
}

int32_t ByteTrie::find(std::string_view key) const {
  if (nodes_.empty() || key.empty()) return -1;
  uint32_t node = 0;
  for (char c : key)
    if (!(node = child(node, static_cast<uint8_t>(c)))) return -1;
  return nodes_[node].id;
}

}  // namespace gander
