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

void Sampler::restrict_to(int64_t n) {
  GANDER_CHECK(n > 0, "sampler: cannot restrict sampling to ", n, " tokens");
  limit_ = std::min<int64_t>(n, int64_t(occurrence_.size()));
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
  if (limit_ > 0)
    for (size_t i = size_t(limit_); i < V; ++i) probs_[i] = -INFINITY;
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

  // Candidates in descending probability. A top-p or top-k cut only needs the head of the order:
  // sort the 1024 most likely tokens and fall back to a full sort only if they hold less than
  // top_p of the mass. (With neither cut every token stays a candidate, in index order.)
  const bool cut = top_p < 1 || p_.top_k > 0;
  order_.resize(V);
  std::iota(order_.begin(), order_.end(), 0);
  size_t kept = V;
  if (cut) {
    auto by_prob = [&](int32_t a, int32_t b) { return probs_[size_t(a)] > probs_[size_t(b)]; };
    size_t head = std::min<size_t>(V, std::max<size_t>(1024, size_t(p_.top_k)));
    std::partial_sort(order_.begin(), order_.begin() + long(head), order_.end(), by_prob);
    kept = head;
    if (top_p < 1) {
      // The cutoff is the smallest sorted probability at which the cumulative sum reaches top_p.
      double cum = 0;
      size_t at = head;
      for (size_t r = 0; r < head; ++r)
        if ((cum += probs_[size_t(order_[r])]) >= top_p) {
          at = r;
          break;
        }
      if (at == head && head < V) {
        std::sort(order_.begin() + long(head), order_.end(), by_prob);
        for (at = head; at < V && (cum += probs_[size_t(order_[at])]) < top_p; ++at) {}
        at = std::min(at, V - 1);
      }
      const float cutoff = probs_[size_t(order_[std::min(at, V - 1)])];
      // Every token at or above the cutoff stays (ties included, as in the official code).
      kept = 0;
      while (kept < V && probs_[size_t(order_[kept])] >= cutoff) ++kept;
      if (kept == head)  // ties may continue past the sorted head
        for (size_t r = head; r < V; ++r)
          if (probs_[size_t(order_[r])] >= cutoff) std::swap(order_[kept++], order_[r]);
    }
    if (p_.top_k > 0) kept = std::min(kept, size_t(p_.top_k));
  }
  double total = 0;
  for (size_t r = 0; r < kept; ++r) {
    float& p = probs_[size_t(order_[r])];
    if (temperature != 1) p = std::pow(p, 1.0f / temperature);
    total += p;
  }
  double u = rng_.uniform() * total;
  for (size_t r = 0; r < kept; ++r) {
    u -= probs_[size_t(order_[r])];
    if (u < 0) return order_[r];
  }
  return order_[0];
}

}  // namespace gander
