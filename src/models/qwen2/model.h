// The Qwen2 forward pass (as Hugging Face transformers computes it): RMSNorm, q/k/v with biases,
// rotate-half RoPE, causal attention with grouped KV heads over a KV cache, SwiGLU MLP, final
// norm, lm_head. A chunk of any length continues from the cache, so prefill can be chunked and
// decoding is a chunk of one token.
#pragma once
#include <span>
#include <vector>

#include "models/qwen2/kv_cache.h"
#include "models/qwen2/weights.h"
#include "ops/linear.h"

namespace gander::qwen2 {

struct ForwardOptions {
  ops::Precision precision = ops::Precision::F32;
  int64_t chunk = 512;
};

// Per-layer tensors for checking against reference implementations.
struct Trace {
  std::vector<Tensor> hidden;       // L+1 entries of [T, D]: embeddings, then after each layer (last: final norm applied, as HF)
  std::vector<Tensor> attn_output;  // L entries of [T, D]: self-attention output after o_proj
};

// One sequence's part of a batched call: its tokens and the KV cache they extend.
struct SequenceInput {
  std::span<const int32_t> ids;
  KvCache* cache;
};

class Model {
 public:
  explicit Model(Weights w, ForwardOptions opt = {});
  const Config& config() const { return w_.config; }
  const Weights& weights() const { return w_; }
  uint64_t fingerprint() const { return fingerprint_; }
  ForwardOptions& options() { return opt_; }

  void forward(std::span<const int32_t> ids, KvCache& cache, Tensor& logits, bool all_logits = false);
  void forward_trace(std::span<const int32_t> ids, KvCache& cache, Tensor& logits, Trace& trace);
  // Several sequences in one call, as rwkv7::Model::forward_batch: their rows share every matrix
  // product; RoPE positions, the new keys and values and the attention are each sequence's own.
  // logits: [sum of T, V] when all_logits, else [B, V].
  void forward_batch(std::span<const SequenceInput> seqs, Tensor& logits, bool all_logits = false);

  // The rows of one pass: consecutive runs of rows, each a slice of one sequence.
  struct Segment {
    int64_t row0, rows;
    KvCache* cache;
  };

 private:
  void check_input(std::span<const int32_t> ids, const KvCache& cache) const;
  void run_rows(std::span<const int32_t> ids, std::span<const Segment> segs, Tensor* logits, bool all_logits,
                Trace* trace);
  Weights w_;
  ForwardOptions opt_;
  uint64_t fingerprint_;
};

}  // namespace gander::qwen2
