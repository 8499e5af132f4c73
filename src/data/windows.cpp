#include "data/windows.h"

#include "core/error.h"
#include "core/rng.h"

namespace gander::data {
namespace {

bool is_prime(int64_t n) {
  if (n < 2) return false;
  for (int64_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

int64_t mul_mod(int64_t a, int64_t b, int64_t m) { return int64_t((__int128)a * b % m); }

}  // namespace

int64_t magic_prime(int64_t n) {
  for (int64_t p = n; p >= 2; --p)
    if (p % 3 == 2 && is_prime(p)) return p;
  return 0;
}

WindowSampler::WindowSampler(int64_t stream_tokens, int64_t ctx, int64_t valid_tokens, uint64_t seed)
    : ctx_(ctx), seed_(seed) {
  GANDER_CHECK(ctx >= 1, "a window of ", ctx, " tokens");
  GANDER_CHECK(valid_tokens >= 0 && valid_tokens < stream_tokens, "a validation split of ", valid_tokens,
               " tokens out of ", stream_tokens);
  train_tokens_ = stream_tokens - valid_tokens;
  p_ = magic_prime((train_tokens_ - 1) / ctx);
  GANDER_CHECK(p_ > 0, "the training split holds ", train_tokens_, " tokens: too few for two windows of ", ctx + 1);
  valid_windows_ = valid_tokens > ctx ? (valid_tokens - 1) / ctx : 0;
}

int64_t WindowSampler::train_offset(int64_t sample) const {
  GANDER_CHECK(sample >= 0, "sample ", sample);
  const int64_t epoch = sample / p_, i = sample % p_;
  // f in 1..p-1 and o in 0..p-1 from (seed, epoch): a fresh permutation every epoch.
  Rng rng(seed_ * 0x9e3779b97f4a7c15ull + uint64_t(epoch) + 1);
  const int64_t f = p_ > 1 ? 1 + int64_t(rng.next_u64() % uint64_t(p_ - 1)) : 1;
  const int64_t o = int64_t(rng.next_u64() % uint64_t(p_));
  const int64_t x = (i + o) % p_;
  return mul_mod(f, mul_mod(mul_mod(x, x, p_), x, p_), p_) * ctx_;
}

}  // namespace gander::data
