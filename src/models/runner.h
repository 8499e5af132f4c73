// A loaded model of any supported architecture together with its sequence state (RWKV-7's
// recurrent state or Qwen2's KV cache): what the commands that generate, chat, score and
// benchmark need, without knowing the architecture.
#pragma once
#include <limits>
#include <memory>
#include <span>
#include <string>

#include "core/tensor.h"
#include "ops/linear.h"

namespace gander {

class Runner {
 public:
  virtual ~Runner() = default;
  virtual std::string architecture() const = 0;  // "rwkv7", "qwen2"
  virtual std::string describe() const = 0;      // shape summary
  virtual std::string source() const = 0;        // file or folder
  virtual int64_t vocab() const = 0;
  virtual int64_t parameter_count() const = 0;
  virtual int64_t weight_bytes() const = 0;
  virtual DType matrix_dtype() const = 0;
  // Runs ids from the current state (advancing it); logits [T, V] or, by default, [1, V].
  virtual void feed(std::span<const int32_t> ids, Tensor& logits, bool all_logits = false) = 0;
  virtual void reset() = 0;  // back to the initial state
  // Tokens the model can still take: a Qwen2 model's max_position_embeddings minus what its KV
  // cache holds; RWKV-7 (a recurrent state) has no limit.
  virtual int64_t context_limit() const { return 0; }  // 0: none
  virtual int64_t context_room() const { return std::numeric_limits<int64_t>::max(); }
  // A point to come back to (chat's /retry): RWKV-7 copies its state, Qwen2 remembers the cache
  // length (later tokens only append). restore() throws if the state was replaced since.
  struct Snapshot {
    virtual ~Snapshot() = default;
  };
  virtual std::unique_ptr<Snapshot> snapshot() const = 0;
  virtual void restore(const Snapshot& s) = 0;
  virtual void save_state(const std::string& path) const = 0;
  virtual void load_state(const std::string& path) = 0;
  virtual void set_precision(ops::Precision p) = 0;
  virtual ops::Precision precision() const = 0;
  // Bytes read per decoded token at a context of `position` tokens (weights, state or KV cache).
  virtual double decode_bytes_per_token(int64_t position) const = 0;
  // Batched decoding (bench --batch; the server's continuous batching builds on it): start_batch
  // makes `batch` sequences that continue from the current state, and each feed_batch call feeds
  // one token to each of them in one forward pass (the weights read once for all), logits [B, V].
  // An architecture without a batched forward says so.
  virtual void start_batch(int64_t batch);
  virtual void feed_batch(std::span<const int32_t> one_token_each, Tensor& logits);
  // Bytes read per batched step: by default each sequence as if alone.
  virtual double decode_bytes_per_step(int64_t position, int64_t batch) const {
    return double(batch) * decode_bytes_per_token(position);
  }
  // Matrix FLOPs of a prompt of n tokens (all layers for every token, the head for the last).
  virtual double prefill_flops(int64_t n) const = 0;
};

}  // namespace gander
