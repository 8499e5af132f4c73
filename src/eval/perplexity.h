// Perplexity of a model over a token stream, as Hugging Face's perplexity recipe and llama.cpp's
// tool compute it: windows of `ctx` input tokens starting every `stride` tokens, each scoring only
// the targets no earlier window scored, so with stride = ctx every token after the first is
// scored once, with the context from its window's start; with stride < ctx the windows overlap
// and later targets see more context. Or, `stream`, the whole stream as one running sequence
// (RWKV-7: one recurrent state; attention: a KV cache over everything), fed ctx tokens at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "models/context.h"
#include "tokenize/tokenizer.h"

namespace gander::eval {

struct PerplexityOptions {
  int64_t ctx = 512;     // inputs per window (stream: tokens per call)
  int64_t stride = 0;    // 0: ctx
  int64_t batch = 1;     // windows run together, one sequence each
  bool stream = false;
  models::RunOptions run;
  const models::SequenceState* initial = nullptr;  // every window starts from it (a tuned state); null: zeros
};

struct PerplexityResult {
  double nll = 0;          // summed, nats
  int64_t tokens = 0;      // scored
  int64_t windows = 0;
  double bytes = 0;        // of the scored tokens, when byte lengths were given
  double mean_nll() const { return tokens ? nll / double(tokens) : 0; }
  double perplexity() const;
  double bits_per_byte() const;  // 0 without byte lengths
};

// Each id's length in bytes of text: what bits per byte divides by (end tokens count none).
std::vector<int64_t> token_byte_lengths(const Tokenizer& t, int64_t model_vocab);

// `byte_lengths` (optional): each id's length in bytes of text (end tokens 0), for bits per byte.
// `progress(scored, total)` after each batch of windows.
PerplexityResult perplexity(std::shared_ptr<const models::Decoder> model, std::span<const int32_t> tokens,
                            const PerplexityOptions& options, const std::vector<int64_t>* byte_lengths = nullptr,
                            const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace gander::eval
