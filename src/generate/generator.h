// The generation loop, independent of the architecture: the caller supplies `feed`, which runs
// tokens through its model (advancing whatever state it keeps) and leaves the last logits [1, V].
#pragma once
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "generate/sampler.h"
#include "tokenize/tokenizer.h"

namespace gander {

using FeedFn = std::function<void(std::span<const int32_t> ids, Tensor& last_logits)>;

struct GenerateOptions {
  int64_t max_tokens = 200;
  std::vector<int32_t> stop_tokens;
  std::vector<std::string> stop_strings;
};

struct GenerateStats {
  int64_t prompt_tokens = 0, generated_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
  std::string stop_reason;  // "length", "stop token", "stop string"
  std::string text;         // the generated text (up to a stop string)
  std::vector<int32_t> tokens;
  double prefill_tps() const { return prefill_seconds > 0 ? double(prompt_tokens) / prefill_seconds : 0; }
  double decode_tps() const { return decode_seconds > 0 ? double(generated_tokens) / decode_seconds : 0; }
};

// Feeds `prompt` (may be empty if `logits` already holds the next-token logits), then samples up
// to max_tokens. Every sampled token is fed back, so the state ends after the last generated token.
GenerateStats generate(const FeedFn& feed, const Tokenizer& tok, std::span<const int32_t> prompt, Tensor& logits,
                       Sampler& sampler, const GenerateOptions& opt,
                       const std::function<void(const std::string&)>& on_text);

}  // namespace gander
