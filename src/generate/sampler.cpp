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

SamplingParams SamplingParams::hf_defaults() {
  SamplingParams p;
  p.order = SamplingOrder::HuggingFace;
  p.temperature = 0;  // do_sample = False
  p.top_p = 1;
  p.top_k = 50;
  p.presence_penalty = p.frequency_penalty = 0;
  p.penalty_decay = 1;
  return p;
}

void SamplingParams::validate() const {
  GANDER_CHECK(temperature >= 0 && std::isfinite(temperature), "--temperature must be >= 0, got ", temperature);
  GANDER_CHECK(top_p >= 0 && top_p <= 1, "--top-p must be in [0, 1], got ", top_p);
  GANDER_CHECK(top_k >= 0, "--top-k must be >= 0, got ", top_k);
  GANDER_CHECK(min_p >= 0 && min_p <= 1, "--min-p must be in [0, 1], got ", min_p);
  GANDER_CHECK(penalty_decay >= 0 && penalty_decay <= 1, "--penalty-decay must be in [0, 1], got ", penalty_decay);
  GANDER_CHECK(std::isfinite(presence_penalty), "--presence-penalty must be finite, got ", presence_penalty);
  GANDER_CHECK(std::isfinite(frequency_penalty), "--frequency-penalty must be finite, got ", frequency_penalty);
  GANDER_CHECK(std::isfinite(repetition_penalty) && repetition_penalty > 0, "--repetition-penalty must be > 0, got ",
               repetition_penalty);
}

std::string SamplingParams::describe() const {
  if (temperature == 0) return "greedy (temperature 0)";
  return concat(order == SamplingOrder::HuggingFace ? "transformers order" : "RWKV pipeline order", ": temperature ",
                temperature, ", top-p ", top_p, ", top-k ", top_k, ", min-p ", min_p, ", presence ", presence_penalty,
                ", frequency ", frequency_penalty, " (decay ", penalty_decay, "), repetition ", repetition_penalty);
}

float penalty_weight(const std::string& text) {
  return std::string_view(" \t0123456789").find(text) != std::string_view::npos ? 0.0f : 1.0f;
}

Sampler::Sampler(SamplingParams params, int64_t vocab)
    : p_(std::move(params)),
      rng_(p_.seed),
      occurrence_(size_t(vocab), 0.0f),
      seen_(size_t(vocab), 0),
      in_context_(size_t(vocab), 0) {
  p_.validate();
  for (int32_t b : p_.banned) GANDER_CHECK(b >= 0 && b < vocab, "--ban: token ", b, " is outside the vocabulary (0..", vocab - 1, ")");
}

void Sampler::restrict_to(int64_t n) {
  GANDER_CHECK(n > 0, "sampler: cannot restrict sampling to ", n, " tokens");
  limit_ = std::min<int64_t>(n, int64_t(occurrence_.size()));
}

void Sampler::reset_penalties() {
  std::fill(occurrence_.begin(), occurrence_.end(), 0.0f);
  std::fill(seen_.begin(), seen_.end(), 0);
  std::fill(in_context_.begin(), in_context_.end(), 0);
}

void Sampler::restore(const Memory& m) {
  GANDER_CHECK(m.occurrence.size() == occurrence_.size(), "sampler: memory of another vocabulary");
  occurrence_ = m.occurrence;
  seen_ = m.seen;
  in_context_ = m.in_context;
}

void Sampler::observe(int32_t token, float weight) {
  GANDER_CHECK(token >= 0 && size_t(token) < occurrence_.size(), "sampler: token ", token, " is outside the vocabulary");
  if (p_.penalty_decay != 1)
    for (size_t i = 0; i < occurrence_.size(); ++i)
      if (seen_[i]) occurrence_[i] *= p_.penalty_decay;
  seen_[size_t(token)] = 1;
  in_context_[size_t(token)] = 1;
  occurrence_[size_t(token)] += weight;
}

void Sampler::observe_context(std::span<const int32_t> tokens) {
  for (int32_t t : tokens)
    if (t >= 0 && size_t(t) < in_context_.size()) in_context_[size_t(t)] = 1;
}

int32_t Sampler::argmax(const std::vector<float>& scores) const {
  const auto best = std::max_element(scores.begin(), scores.end());
  GANDER_CHECK(std::isfinite(*best), "sampler: every token is banned or the logits are not finite");
  return int32_t(best - scores.begin());
}

int32_t Sampler::sample(std::span<const float> logits) {
  const size_t V = logits.size();
  GANDER_CHECK(V == occurrence_.size(), "sampler: ", V, " logits for a vocabulary of ", occurrence_.size());
  scores_.assign(logits.begin(), logits.end());
  for (int32_t b : p_.banned) scores_[size_t(b)] = -INFINITY;
  if (limit_ > 0) std::fill(scores_.begin() + limit_, scores_.end(), -INFINITY);
  if (p_.temperature == 0) return argmax(scores_);

  for (size_t i = 0; i < V; ++i) {
    float& s = scores_[i];
    if (seen_[i]) s -= p_.presence_penalty + occurrence_[i] * p_.frequency_penalty;
    if (in_context_[i] && p_.repetition_penalty != 1) s = s < 0 ? s * p_.repetition_penalty : s / p_.repetition_penalty;
  }
  const bool hf = p_.order == SamplingOrder::HuggingFace;
  if (hf)
    for (float& s : scores_) s /= p_.temperature;
  if (p_.top_p <= 0) return argmax(scores_);

  // Log-softmax in double: exact enough that the draw never sees all-zero weights.
  const float m = scores_[size_t(argmax(scores_))];
  double sum = 0;
  for (float s : scores_) sum += std::exp(double(s) - m);
  const double lse = double(m) + std::log(sum);
  logp_.resize(V);
  for (size_t i = 0; i < V; ++i) logp_[i] = double(scores_[i]) - lse;

  // Candidates in descending probability. A cut only needs the head of the order: sort the 1024
  // likeliest tokens and the rest only if a cut reaches past them. (With no cut every token stays
  // a candidate, in index order.)
  order_.resize(V);
  std::iota(order_.begin(), order_.end(), 0);
  size_t kept = V, sorted = 0;
  const bool cut = p_.top_p < 1 || p_.top_k > 0 || p_.min_p > 0;
  auto by_prob = [this](int32_t a, int32_t b) { return logp_[size_t(a)] > logp_[size_t(b)]; };
  auto lp = [&](size_t rank) {  // log-probability of the token at this rank, sorting as far as needed
    if (rank >= sorted) {
      if (sorted == 0) {
        sorted = std::min(V, std::max<size_t>({1024, size_t(p_.top_k), rank + 1}));
        std::partial_sort(order_.begin(), order_.begin() + long(sorted), order_.end(), by_prob);
      } else {
        std::sort(order_.begin() + long(sorted), order_.end(), by_prob);
        sorted = V;
      }
    }
    return logp_[size_t(order_[rank])];
  };
  if (cut) {
    lp(0);
    auto top_k = [&] {
      if (p_.top_k <= 0 || size_t(p_.top_k) >= kept) return;
      const double kth = lp(size_t(p_.top_k) - 1);
      kept = size_t(p_.top_k);
      if (hf)  // transformers keeps every token tied with the k-th
        while (kept < V && lp(kept) >= kth) ++kept;
    };
    if (!hf) {
      if (p_.top_p < 1) {
        // The official cut: the smallest sorted probability at which the cumulative sum reaches
        // top_p; every token at or above it stays (ties included).
        double cum = 0;
        size_t r = 0;
        for (; r + 1 < V; ++r)
          if ((cum += std::exp(lp(r))) >= p_.top_p) break;
        const double cutoff = lp(r);
        kept = r + 1;
        while (kept < V && lp(kept) >= cutoff) ++kept;
      }
      top_k();
    } else {
      top_k();
      if (p_.top_p < 1) {
        // transformers: drop the tail whose mass (within the survivors) stays below 1 - top_p;
        // i.e. keep each token while the mass ranked above it is still below top_p.
        double total = 0;
        for (size_t r = 0; r < kept; ++r) total += std::exp(lp(r));
        double above = 0;
        size_t r = 0;
        for (; r < kept && (r == 0 || above < p_.top_p * total); ++r) above += std::exp(lp(r));
        kept = r;
      }
    }
    if (p_.min_p > 0) {
      const double floor = lp(0) + std::log(double(p_.min_p));
      size_t r = 1;
      while (r < kept && lp(r) >= floor) ++r;
      kept = r;
    }
  }
  // Weights relative to the likeliest survivor (weight 1), so none underflows all of them.
  const double top = cut ? lp(0) : double(m) - lse;
  const double inv_t = hf ? 1.0 : 1.0 / double(p_.temperature);
  double total = 0;
  for (size_t r = 0; r < kept; ++r) total += std::exp((logp_[size_t(order_[r])] - top) * inv_t);
  double u = rng_.uniform() * total;
  for (size_t r = 0; r < kept; ++r) {
    u -= std::exp((logp_[size_t(order_[r])] - top) * inv_t);
    if (u < 0) return order_[r];
  }
  // Rounding left u a hair above zero: the last survivor with any weight.
  for (size_t r = kept; r-- > 0;)
    if (std::isfinite(logp_[size_t(order_[r])])) return order_[r];
  return order_[0];
}

}  // namespace gander
