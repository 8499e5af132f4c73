#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace gander {

SamplingParams SamplingParams::pipeline_defaults() { return SamplingParams{}; }

SamplingParams SamplingParams::chat_defaults() {
  SamplingParams p;
  p.top_p = 0.3f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.5f;
  p.banned = {0};
  return p;
}

void SamplingParams::validate() const {
  GANDER_CHECK(temperature >= 0 && std::isfinite(temperature), "temperature must be >= 0, got ", temperature);
  GANDER_CHECK(top_p >= 0 && top_p <= 1, "top-p must be in [0, 1], got ", top_p);
  GANDER_CHECK(top_k >= 0, "top-k must be >= 0, got ", top_k);
  GANDER_CHECK(penalty_decay >= 0 && penalty_decay <= 1, "penalty decay must be in [0, 1], got ", penalty_decay);
  GANDER_CHECK(std::isfinite(presence_penalty) && std::isfinite(frequency_penalty), "penalties must be finite");
}

float penalty_weight(const std::string& text) {
  return std::string_view(" \t0123456789").find(text) != std::string_view::npos ? 0.0f : 1.0f;
}

Sampler::Sampler(SamplingParams params, int64_t vocab)
    : p_(std::move(params)), rng_(p_.seed), occurrence_(size_t(vocab), 0.0f), seen_(size_t(vocab), 0) {
  p_.validate();
  for (int32_t b : p_.banned) GANDER_CHECK(b >= 0 && b < vocab, "banned token ", b, " is outside the vocabulary");
}

void Sampler::reset_penalties() {
  std::fill(occurrence_.begin(), occurrence_.end(), 0.0f);
  std::fill(seen_.begin(), seen_.end(), 0);
}

void Sampler::observe(int32_t token, float weight) {
  for (size_t i = 0; i < occurrence_.size(); ++i)
    if (seen_[i]) occurrence_[i] *= p_.penalty_decay;
  seen_[size_t(token)] = 1;
  occurrence_[size_t(token)] += weight;
}

int32_t Sampler::sample(std::span<const float> logits) {
  const size_t V = logits.size();
  GANDER_CHECK(V == occurrence_.size(), "sampler: ", V, " logits for a vocabulary of ", occurrence_.size());
  probs_.assign(logits.begin(), logits.end());
  for (int32_t b : p_.banned) probs_[size_t(b)] = -INFINITY;
  for (size_t i = 0; i < V; ++i)
    if (seen_[i]) probs_[i] -= p_.presence_penalty + occurrence_[i] * p_.frequency_penalty;

  float temperature = p_.temperature, top_p = p_.top_p;
  if (temperature == 0) temperature = 1, top_p = 0;  // the official convention: greedy
  // Softmax in f32.
  const float m = *std::max_element(probs_.begin(), probs_.end());
  GANDER_CHECK(std::isfinite(m), "sampler: every token is banned or the logits are not finite");
  double sum = 0;
  for (float& p : probs_) sum += (p = std::exp(p - m));
  for (float& p : probs_) p = float(p / sum);
  if (top_p <= 0) return int32_t(std::max_element(probs_.begin(), probs_.end()) - probs_.begin());

  order_.resize(V);
  std::iota(order_.begin(), order_.end(), 0);
  std::sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) { return probs_[size_t(a)] > probs_[size_t(b)]; });
  if (top_p < 1) {
    // The cutoff is the smallest sorted probability at which the cumulative sum reaches top_p.
    double cum = 0;
    float cutoff = probs_[size_t(order_[0])];
    for (int32_t id : order_) {
      cum += probs_[size_t(id)];
      cutoff = probs_[size_t(id)];
      if (cum >= top_p) break;
    }
    for (float& p : probs_)
      if (p < cutoff) p = 0;
  }
  if (p_.top_k > 0 && size_t(p_.top_k) < V)
    for (size_t r = size_t(p_.top_k); r < V; ++r) probs_[size_t(order_[r])] = 0;
  if (temperature != 1)
    for (float& p : probs_) p = std::pow(p, 1.0f / temperature);
  double total = 0;
  for (float p : probs_) total += p;
  double u = rng_.uniform() * total;
  for (int32_t id : order_) {
    u -= probs_[size_t(id)];
    if (u < 0) return id;
  }
  return order_[0];
}

}  // namespace gander
