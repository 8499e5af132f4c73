#include "tokenize/byte_trie.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace gander {

ByteTrie::ByteTrie(std::span<const std::string_view> keys, std::span<const int32_t> ids,
                   const std::function<void(size_t, size_t)>& duplicate) {
  GANDER_CHECK(keys.size() == ids.size() && keys.size() < UINT32_MAX, "ByteTrie: ", keys.size(), " keys but ",
               ids.size(), " ids");
  size_t total_bytes = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    total_bytes += keys[i].size();
    GANDER_CHECK(!keys[i].empty() && keys[i].size() <= kMaxKeyBytes && ids[i] >= 0, "ByteTrie: key ", i,
                 " is empty, longer than ", kMaxKeyBytes, " bytes or has a negative id");
  }
  // A node per key byte at most: reserving that avoids the doubling growth (up to 2x the memory)
  // when keys share little.
  nodes_.reserve(total_bytes + 1);
  edges_.reserve(total_bytes);
  // Sorted keys put every prefix right before its extensions, so each node owns one contiguous range
  // of them; stable, so that duplicates meet in input order.
  std::vector<uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });

  // Depth first, so that the nodes of one key's path lie close together in memory (a lookup walks
  // one path). Node i's keys are order[lo, hi), all sharing their first `depth` bytes; a node's
  // edges are reserved together when it is visited (contiguous, sorted by byte) and each edge
  // learns its child's index when the child is visited.
  struct Pending {
    uint32_t lo, hi, depth, edge;  // edge: the parent's edge that leads here (none for the root)
  };
  constexpr uint32_t kNoEdge = UINT32_MAX;
  std::vector<Pending> pending{{0, uint32_t(keys.size()), 0, kNoEdge}};
  while (!pending.empty()) {
    auto [lo, hi, depth, edge] = pending.back();
    pending.pop_back();
    const auto node = uint32_t(nodes_.size());
    nodes_.emplace_back();
    if (edge != kNoEdge) edges_[edge].child = node;
    if (lo < hi && keys[order[lo]].size() == depth) {  // the key ending here sorts first in its range
      const uint32_t first = lo++;
      nodes_[node].id = ids[order[first]];
      while (lo < hi && keys[order[lo]].size() == depth) duplicate(order[first], order[lo++]);
    }
    nodes_[node].edge_begin = uint32_t(edges_.size());
    const size_t children = pending.size();
    while (lo < hi) {
      const auto byte = static_cast<uint8_t>(keys[order[lo]][depth]);
      uint32_t end = lo + 1;
      while (end < hi && static_cast<uint8_t>(keys[order[end]][depth]) == byte) ++end;
      edges_.push_back({byte, 0});
      pending.push_back({lo, end, depth + 1, uint32_t(edges_.size() - 1)});
      lo = end;
    }
    nodes_[node].edge_end = uint32_t(edges_.size());
    std::reverse(pending.begin() + long(children), pending.end());  // visit children in byte order
  }
  // Shrinking copies the array, so it is worth it only when prefix sharing saved much.
  if (nodes_.size() * 2 < nodes_.capacity()) nodes_.shrink_to_fit();
  if (edges_.size() * 2 < edges_.capacity()) edges_.shrink_to_fit();

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
