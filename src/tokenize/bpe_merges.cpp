#include "tokenize/bpe_merges.h"

#include <algorithm>
#include <functional>

#include "core/error.h"

namespace gander {

void BpeMerges::add(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  rules_.insert_or_assign(key(left, right), Rule{rank, merged});
}

void BpeMerges::apply(std::vector<int32_t>& symbols) const {
  const size_t n = symbols.size();
  if (n < 2) return;
  GANDER_CHECK(n < size_t(INT32_MAX), "tokenize: a piece of ", n, " bytes is too long to merge");
  // Symbol i: its id (-1 once merged into its left neighbour) and its live neighbours.
  struct Symbol {
    int32_t id, prev, next;
  };
  std::vector<Symbol> sym(n);
  for (size_t i = 0; i < n; ++i) sym[i] = {symbols[i], int32_t(i) - 1, i + 1 < n ? int32_t(i + 1) : -1};
  // Candidate (rank, left position) packed so that integer order is (rank, position) order. A
  // position keeps its place in the list while it lives, so it orders pairs left to right.
  std::vector<uint64_t> heap;
  heap.reserve(n);
  auto push = [&](int32_t rank, int32_t pos) {
    heap.push_back(uint64_t(uint32_t(rank)) << 32 | uint32_t(pos));
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
  };
  for (size_t i = 0; i + 1 < n; ++i)
    if (const Rule* r = find(symbols[i], symbols[i + 1])) heap.push_back(uint64_t(uint32_t(r->rank)) << 32 | uint32_t(i));
  std::make_heap(heap.begin(), heap.end(), std::greater<>());

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const int32_t rank = int32_t(heap.back() >> 32), pos = int32_t(uint32_t(heap.back()));
    heap.pop_back();
    Symbol& left = sym[size_t(pos)];
    if (left.id < 0 || left.next < 0) continue;  // merged away, or now the last symbol
    Symbol& right = sym[size_t(left.next)];
    const Rule* rule = find(left.id, right.id);
    // A rank names one pair, so a different (or no) rank means the pair here has changed.
    if (!rule || rule->rank != rank) continue;
    left.id = rule->merged;
    right.id = -1;
    left.next = right.next;
    if (left.next >= 0) sym[size_t(left.next)].prev = pos;
    if (left.prev >= 0)
      if (const Rule* r = find(sym[size_t(left.prev)].id, left.id)) push(r->rank, left.prev);
    if (left.next >= 0)
      if (const Rule* r = find(left.id, sym[size_t(left.next)].id)) push(r->rank, pos);
  }
  size_t out = 0;
  for (const Symbol& s : sym)
    if (s.id >= 0) symbols[out++] = s.id;
  symbols.resize(out);
}

}  // namespace gander
