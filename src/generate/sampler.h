// Token sampling as the official RWKV pipeline does it (spec rwkv7.md §7.2): penalties on the
// logits, then softmax, top-p cut, top-k cut, temperature applied to the probabilities, and a
// multinomial draw from a seeded generator. temperature 0 or top_p 0 is greedy.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"

namespace gander {

struct SamplingParams {
  float temperature = 1.0f;
  float top_p = 0.85f;
  int64_t top_k = 0;  // 0 = off
  float presence_penalty = 0.2f;
  float frequency_penalty = 0.2f;
  float penalty_decay = 0.996f;
  std::vector<int32_t> banned;  // logits forced to -inf
  uint64_t seed = 0;

  static SamplingParams pipeline_defaults();  // PIPELINE_ARGS: 1.0 / 0.85 / 0 / 0.2 / 0.2 / 0.996
  static SamplingParams chat_defaults();      // API_DEMO_CHAT: 1.0 / 0.3 / 0 / 0.5 / 0.5 / 0.996, bans token 0
  void validate() const;                      // throws on out-of-range values
};

class Sampler {
 public:
  Sampler(SamplingParams params, int64_t vocab);
  // Picks the next token from logits [V] (the penalties are applied to a copy).
  int32_t sample(std::span<const float> logits);
  // Records a generated token for the penalties; `weight` 0 for whitespace/digit tokens, as the
  // official pipeline does. Decays the earlier counts first.
  void observe(int32_t token, float weight);
  void reset_penalties();
  // Never samples ids >= n: a model's vocabulary may be padded past its tokenizer's (Qwen2: 151936
  // rows for 151669 tokens), and those rows decode to nothing.
  void restrict_to(int64_t n);
  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  Rng rng_;
  std::vector<float> occurrence_;
  std::vector<uint8_t> seen_;
  std::vector<float> probs_;
  std::vector<int32_t> order_;
  int64_t limit_ = 0;
};

// The official penalty weight of a generated token's text: 0 if it is a substring of " \t0123456789".
float penalty_weight(const std::string& token_text);

}  // namespace gander
