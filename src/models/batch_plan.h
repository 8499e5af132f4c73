// How a batched forward call splits its sequences into passes: consecutive sequences go together
// while their rows fit in one chunk (every product then reads the weights once for all of them);
// a sequence longer than a chunk runs alone, in chunks.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.h"

namespace gander::models {

struct PassPlan {
  size_t first = 0, count = 0;  // sequences [first, first + count)
  bool alone = false;           // one sequence longer than a chunk
};

std::vector<PassPlan> plan_passes(std::span<const int64_t> lengths, int64_t chunk);

// Runs a batched call pass by pass. Each input has `ids`; logits rows are handed out in order
// (all rows when all_logits, else one per sequence). alone(input, logits_part) runs a long
// sequence by itself; together(ids, segments, logits_part) runs a pass, its segments made by
// segment(row0, rows, input).
template <typename Input, typename MakeSegment, typename Alone, typename Together>
void run_passes(std::span<const Input> seqs, int64_t chunk, bool all_logits, Tensor& logits, MakeSegment segment,
                Alone alone, Together together) {
  std::vector<int64_t> lengths;
  for (const Input& q : seqs) lengths.push_back(int64_t(q.ids.size()));
  int64_t out_row = 0;
  for (const PassPlan& pass : plan_passes(lengths, chunk)) {
    if (pass.alone) {
      Tensor part = logits.rows(out_row, all_logits ? lengths[pass.first] : 1);
      alone(seqs[pass.first], part);
      out_row += part.dim(0);
      continue;
    }
    std::vector<int32_t> ids;
    std::vector<decltype(segment(int64_t(0), int64_t(0), seqs[0]))> segs;
    for (size_t i = pass.first; i < pass.first + pass.count; ++i) {
      segs.push_back(segment(int64_t(ids.size()), lengths[i], seqs[i]));
      ids.insert(ids.end(), seqs[i].ids.begin(), seqs[i].ids.end());
    }
    Tensor part = logits.rows(out_row, all_logits ? int64_t(ids.size()) : int64_t(segs.size()));
    together(std::span<const int32_t>(ids), std::span<const typename decltype(segs)::value_type>(segs), part);
    out_row += part.dim(0);
  }
}

}  // namespace gander::models
