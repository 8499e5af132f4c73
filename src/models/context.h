// A context runs a shared, immutable model for a changing set of sequences: it holds their states
// (RWKV recurrent states, KV caches), the scratch of its passes and its options (precision,
// reference kernels, chunk length). Sequences join and leave between calls; one forward call
// advances any subset of them, each by its own number of tokens (prefill chunks and single decode
// tokens together), with the matrix products over all their rows at once. This is the batching
// that training (B x T) and a server (continuous batching) both need; B = 1 is a context of one
// sequence. Contexts over the same model may run on different threads.
#pragma once
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "models/decoder.h"

namespace gander::models {

class Context {
 public:
  using SeqId = int64_t;
  struct Step {
    SeqId seq;
    std::span<const int32_t> ids;
  };

  explicit Context(std::shared_ptr<const Decoder> model, RunOptions options = {});
  const Decoder& model() const { return *model_; }
  const std::shared_ptr<const Decoder>& shared_model() const { return model_; }
  RunOptions& options() { return opt_; }
  const RunOptions& options() const { return opt_; }

  SeqId join();                     // a new sequence in the model's initial (zero) state
  SeqId join(SequenceState state);  // one that continues from a state of this model
  SequenceState leave(SeqId seq);   // the sequence's state, which the context no longer holds
  bool holds(SeqId seq) const { return seqs_.count(seq) > 0; }
  SequenceState& state(SeqId seq);
  const SequenceState& state(SeqId seq) const;
  std::vector<SeqId> sequences() const;

  // Advances each step's sequence by its ids (each sequence at most once per call); refuses, before
  // any work, a step that would take a sequence past the model's max_position_embeddings. logits:
  // [sum of T, V] when all_logits, else [steps, V], each sequence's last token, in step order.
  void forward(std::span<const Step> steps, Tensor& logits, bool all_logits = false);
  void forward(SeqId seq, std::span<const int32_t> ids, Tensor& logits, bool all_logits = false);
  // One sequence in one pass, recording hidden states and mixer outputs (models/decoder.h).
  void trace(SeqId seq, std::span<const int32_t> ids, Tensor& logits, Trace& trace);

 private:
  std::shared_ptr<const Decoder> model_;
  RunOptions opt_;
  Workspace ws_;
  std::map<SeqId, SequenceState> seqs_;
  SeqId next_ = 0;
};

}  // namespace gander::models
