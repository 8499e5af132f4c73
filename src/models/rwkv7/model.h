// The RWKV-7 forward pass over a chunk of T tokens from a given state (which it advances).
// T = 1 is the decoding step: every projection is a matrix-vector product streaming the weights.
// T > 1 is chunked prefill: projections become matrix products over the chunk, then the WKV
// recurrence walks the chunk token by token. Both are the same code; they differ only in which
// kernel ops::linear picks, so they agree to float rounding.
#pragma once
#include <cstdint>
#include <span>

#include "models/rwkv7/state.h"
#include "models/rwkv7/weights.h"
#include "ops/linear.h"

namespace gander::rwkv7 {

struct ForwardOptions {
  ops::Precision precision = ops::Precision::F32;  // BF16: prefill products on the bf16 units
  // Longest chunk run at once (bounds the scratch memory, ~60 KB per token at 0.1B); 0 picks by
  // precision: 256 for bf16, whose AMX products are as efficient at 256 rows as at 512 and whose
  // activations then stay nearer the caches; 512 for f32, where oneDNN's sgemm gains from more rows.
  int64_t chunk = 0;
  int64_t chunk_or_default() const { return chunk > 0 ? chunk : precision == ops::Precision::BF16 ? 256 : 512; }
};

// One sequence's part of a batched call: its tokens and the state they advance.
struct SequenceInput {
  std::span<const int32_t> ids;
  State* state;
};

class Model {
 public:
  explicit Model(Weights weights, ForwardOptions options = {});
  const Config& config() const { return w_.config; }
  const Weights& weights() const { return w_; }
  uint64_t fingerprint() const { return fingerprint_; }
  ForwardOptions& options() { return opt_; }
  const ForwardOptions& options() const { return opt_; }

  // Feeds ids through the model from `state` (advanced in place). Writes logits [T, V] for every
  // token when all_logits, else [1, V] for the last token only. Ids are checked against the vocab.
  void forward(std::span<const int32_t> ids, State& state, Tensor& logits, bool all_logits = false);
  // Several sequences in one call: their rows go through every matrix product together (the
  // weights are read once for all of them), while token shift and the WKV recurrence run per
  // sequence on its own state. logits: [sum of T, V] when all_logits, else [B, V] (each
  // sequence's last token). One sequence is exactly forward(). Sequences whose rows together
  // exceed the chunk length run in several passes.
  void forward_batch(std::span<const SequenceInput> seqs, Tensor& logits, bool all_logits = false);
  // The residual stream after each block for one chunk (debugging / tests against hidden_rnn).
  // hidden: [T, L+1, C].
  void forward_hidden(std::span<const int32_t> ids, State& state, Tensor& hidden);

  // The rows of one pass: consecutive runs of rows, each a slice of one sequence.
  struct Segment {
    int64_t row0, rows;
    State* state;
  };

 private:
  struct Scratch;
  void check_input(std::span<const int32_t> ids, const State& state) const;
  void run_rows(std::span<const int32_t> ids, std::span<const Segment> segs, Tensor* logits, bool all_logits,
                Tensor* hidden);
  void time_mix(int64_t l, Scratch& s, std::span<const Segment> segs, int64_t T);
  void channel_mix(int64_t l, Scratch& s, std::span<const Segment> segs, int64_t T);

  Weights w_;
  ForwardOptions opt_;
  uint64_t fingerprint_;
  std::shared_ptr<Scratch> scratch_;
};

}  // namespace gander::rwkv7
