// Token sampling. Two orders of the same filters, one per model family, because each model's
// reference tooling samples that way:
//  - the official RWKV pipeline (spec rwkv7.md §7.2): penalties on the logits, softmax, top-p,
//    top-k, min-p, then temperature applied to the surviving probabilities;
//  - Hugging Face transformers (Qwen2): penalties on the logits, temperature, top-k, top-p, min-p.
// Penalties: RWKV's presence/frequency with per-token decay (on generated tokens) and HF's
// multiplicative repetition penalty (on every token in the context, prompt included).
// temperature 0 is pure greedy: the argmax of the raw logits, no penalty applied. top_p 0 is the
// official pipeline's greedy: the argmax after the penalties. Sampling works on log-probabilities,
// so no temperature underflows every weight to zero.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"

namespace gander {

enum class SamplingOrder { RwkvPipeline, HuggingFace };

struct SamplingParams {
  SamplingOrder order = SamplingOrder::RwkvPipeline;
  float temperature = 1.0f;
  float top_p = 0.85f;
  int64_t top_k = 0;  // 0 = off
  float min_p = 0.0f;  // keep tokens at least min_p times as likely as the likeliest; 0 = off
  float presence_penalty = 0.2f;
  float frequency_penalty = 0.2f;
  float penalty_decay = 0.996f;
  float repetition_penalty = 1.0f;  // HF: logits of context tokens divided (>0) or multiplied (<0) by it
  std::vector<int32_t> banned;  // logits forced to -inf
  uint64_t seed = 0;

  static SamplingParams pipeline_defaults();  // PIPELINE_ARGS: 1.0 / 0.85 / 0 / 0.2 / 0.2 / 0.996
  static SamplingParams chat_defaults();      // API_DEMO_CHAT: 1.0 / 0.3 / 0 / 0.5 / 0.5 / 0.996, bans token 0
  // transformers' GenerationConfig defaults (greedy unless do_sample; top_k 50 when sampling).
  static SamplingParams hf_defaults();
  void validate() const;                      // throws on out-of-range values, naming the option
  std::string describe() const;               // "temperature 1, top-p 0.85, ..." for --verbose output
};

class Sampler {
 public:
  Sampler(SamplingParams params, int64_t vocab);
  // Picks the next token from logits [V] (the penalties are applied to a copy).
  int32_t sample(std::span<const float> logits);
  // Records a generated token: for RWKV's penalties with `weight` (0 for whitespace/digit tokens,
  // as the official pipeline does; earlier counts decay first) and as part of the context.
  void observe(int32_t token, float weight);
  // Records prompt tokens as part of the context (HF's repetition penalty covers the prompt).
  void observe_context(std::span<const int32_t> tokens);
  void reset_penalties();
  // What the penalties remember (not the random generator): chat's /retry goes back to it.
  struct Memory {
    std::vector<float> occurrence;
    std::vector<uint8_t> seen, in_context;
  };
  Memory memory() const { return {occurrence_, seen_, in_context_}; }
  void restore(const Memory& m);
  // Never samples ids >= n: a model's vocabulary may be padded past its tokenizer's (Qwen2: 151936
  // rows for 151669 tokens), and those rows decode to nothing.
  void restrict_to(int64_t n);
  const SamplingParams& params() const { return p_; }

 private:
  int32_t argmax(const std::vector<float>& scores) const;
  SamplingParams p_;
  Rng rng_;
  std::vector<float> occurrence_;
  std::vector<uint8_t> seen_, in_context_;
  std::vector<float> scores_;   // penalised (and for HF, tempered) logits
  std::vector<double> logp_;    // log-probabilities of the scores
  std::vector<int32_t> order_;
  int64_t limit_ = 0;
};

// The official penalty weight of a generated token's text: 0 if it is a substring of " \t0123456789".
float penalty_weight(const std::string& token_text);

}  // namespace gander
