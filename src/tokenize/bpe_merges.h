// The merge rules of a BPE model and the merging of one pre-tokenized piece, as Hugging Face
// `tokenizers` does it: repeatedly merge the adjacent pair of lowest rank (leftmost first when
// ranks tie) until no pair has a rule. Symbols sit in a doubly linked list and candidate pairs
// in a min-heap keyed by (rank, position); entries made stale by an earlier merge are skipped when
// they surface. O(n log n) in the piece's length, so one huge piece (a megabyte of spaces) costs
// what its size says rather than n^2.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace gander {

class BpeMerges {
 public:
  // Rule: left + right -> merged, applied in order of rank (lower first). Each rank names one rule
  // (the loader uses the rule's line number); a pair given twice keeps its last rank, as Hugging
  // Face's merge map does.
  void add(int32_t left, int32_t right, int32_t rank, int32_t merged);
  size_t size() const { return rules_.size(); }
  // Merges the symbol ids in place.
  void apply(std::vector<int32_t>& symbols) const;

 private:
  struct Rule {
    int32_t rank, merged;
  };
  const Rule* find(int32_t left, int32_t right) const {
    auto it = rules_.find(key(left, right));
    return it == rules_.end() ? nullptr : &it->second;
  }
  static uint64_t key(int32_t left, int32_t right) { return uint64_t(uint32_t(left)) << 32 | uint32_t(right); }
  std::unordered_map<uint64_t, Rule> rules_;
};

}  // namespace gander
