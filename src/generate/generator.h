// The generation loop, independent of the architecture: the caller supplies `feed`, which runs
// tokens through its model (advancing whatever state it keeps) and leaves the last logits [1, V].
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/threads.h"
#include "generate/sampler.h"
#include "tokenize/tokenizer.h"

namespace gander {

using FeedFn = std::function<void(std::span<const int32_t> ids, Tensor& last_logits)>;

struct GenerateOptions {
  int64_t max_tokens = 200;
  std::vector<int32_t> stop_tokens;
  std::vector<std::string> stop_strings;
  // Tokens the model can still take after the prompt (a Qwen2 model's max_position_embeddings
  // minus what its cache holds): generation stops there with the reason "context full".
  int64_t context_room = std::numeric_limits<int64_t>::max();
  // Set (from a signal handler, say) to stop after the current token with the reason "interrupted".
  const std::atomic<bool>* interrupt = nullptr;
  // Chooses the thread count of each decode step (nullptr: leave it as it is).
  ThreadGovernor* threads = nullptr;
  // Called as a long prompt is fed in slices of `prefill_slice` tokens (done, total).
  std::function<void(int64_t, int64_t)> on_prefill_progress;
  int64_t prefill_slice = 1024;
  std::function<void()> on_prefill_done;  // before the first token is sampled
};

struct GenerateStats {
  int64_t prompt_tokens = 0, generated_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
  std::string stop_reason;  // "length", "stop token", "stop string", "context full", "interrupted"
  std::string stop_string;  // the stop string that ended generation, if one did
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
