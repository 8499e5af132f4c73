// Which windows of a token stream training reads, and which validation scores.
//
// The stream's last `valid_tokens` are held out for validation, read as consecutive windows in
// order (the same every run). The rest yields n = (train_tokens - 1) / ctx windows of ctx + 1
// tokens (inputs and their next-token targets) starting at multiples of ctx. Training visits
// them in the order of RWKV-LM's "magic prime" walk: p is the largest prime <= n with p % 3 == 2,
// so x -> x^3 is a permutation of 0..p-1, and sample i of an epoch reads window
// (f * ((i + o)^3)) mod p, with f and o drawn from (seed, epoch). Why this walk: the window of
// any sample is a pure function of (seed, sample index), so a run resumes from a step counter
// alone, ranks of a data-parallel run take disjoint samples by index, and every window is read
// once per epoch with no shuffle buffer in memory; the cost is the n - p windows past the prime
// (a fraction ~ ln(n) / n) left out of every epoch.
#pragma once
#include <cstdint>

namespace gander::data {

class WindowSampler {
 public:
  WindowSampler(int64_t stream_tokens, int64_t ctx, int64_t valid_tokens, uint64_t seed);
  int64_t ctx() const { return ctx_; }
  int64_t train_tokens() const { return train_tokens_; }
  int64_t windows_per_epoch() const { return p_; }
  // The first token of training sample `sample` (0, 1, 2, ... over all epochs); the window is
  // [offset, offset + ctx + 1).
  int64_t train_offset(int64_t sample) const;
  int64_t valid_windows() const { return valid_windows_; }
  int64_t valid_offset(int64_t i) const { return train_tokens_ + i * ctx_; }

 private:
  int64_t ctx_, train_tokens_, p_, valid_windows_;
  uint64_t seed_;
};

// The largest prime <= n with p % 3 == 2 (0 when there is none, n < 2).
int64_t magic_prime(int64_t n);

}  // namespace gander::data
