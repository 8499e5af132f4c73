// A loaded model with one sequence (and, for batched decoding, a few more) in a context: what the
// commands that generate, chat, score and benchmark need, whatever the architecture.
#pragma once
#include <limits>
#include <memory>
#include <span>
#include <string>

#include "core/tensor.h"
#include "models/context.h"
#include "ops/linear.h"

namespace gander {

class Runner {
 public:
  // initial: the state reset() returns to (zeros, or a state-tuned one).
  Runner(std::shared_ptr<const models::Decoder> model, models::SequenceState initial, models::RunOptions options);
  const models::Decoder& model() const { return ctx_.model(); }
  std::string architecture() const { return model().info().architecture; }  // "rwkv7", "qwen2"
  std::string describe() const { return model().info().shape; }
  std::string source() const { return model().info().source; }
  int64_t vocab() const { return model().vocab(); }
  int64_t parameter_count() const { return model().parameter_count(); }
  int64_t weight_bytes() const { return model().weight_bytes(); }
  DType matrix_dtype() const { return model().matrix_dtype(); }
  // For work that runs contexts of its own over the same model (perplexity's windows).
  const std::shared_ptr<const models::Decoder>& shared_model() const { return ctx_.shared_model(); }
  const models::RunOptions& options() const { return ctx_.options(); }
  const models::SequenceState& initial_state() const { return initial_; }
  // Runs ids from the current state (advancing it); logits [T, V] or, by default, [1, V]. Refuses
  // ids beyond the model's context limit.
  void feed(std::span<const int32_t> ids, Tensor& logits, bool all_logits = false);
  void reset();  // back to the initial state
  // Tokens the model can still take: max_position_embeddings minus what the sequence has seen
  // (Qwen2); a recurrent state has no limit.
  int64_t context_limit() const { return model().info().max_positions; }  // 0: none
  int64_t context_room() const;
  // A point to come back to (chat's /retry): the constant-size state is copied; a KV cache is
  // remembered by its length (later tokens only append). restore() throws if the state was
  // replaced or reset since.
  struct Snapshot {
    int64_t length = 0, epoch = 0;
    std::vector<Tensor> fixed;  // copies of the constant-size entries
  };
  std::unique_ptr<Snapshot> snapshot() const;
  void restore(const Snapshot& s);
  void save_state(const std::string& path) const;
  void load_state(const std::string& path);
  void set_precision(ops::Precision p) { ctx_.options().precision = p; }
  ops::Precision precision() const { return ctx_.options().precision; }
  // Bytes read per decoded token at a context of `position` tokens (weights, state or KV cache).
  double decode_bytes_per_token(int64_t position) const { return model().decode_bytes(position, 1); }
  // Batched decoding (bench --batch): start_batch makes `batch` sequences that continue from the
  // current state, and each feed_batch call feeds one token to each of them in one forward pass
  // (the weights read once for all), logits [B, V].
  void start_batch(int64_t batch);
  void feed_batch(std::span<const int32_t> one_token_each, Tensor& logits);
  double decode_bytes_per_step(int64_t position, int64_t batch) const { return model().decode_bytes(position, batch); }
  // Matrix FLOPs of a prompt of n tokens (all layers for every token, the head for the last).
  double prefill_flops(int64_t n) const { return model().prefill_flops(n); }

 private:
  models::Context ctx_;
  models::SequenceState initial_;
  models::Context::SeqId main_;
  std::vector<models::Context::SeqId> batch_;  // the sequences of start_batch
  int64_t epoch_ = 0;  // counts resets and loads: a snapshot from before one cannot be restored
};

}  // namespace gander
