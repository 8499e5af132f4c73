// The decoder every architecture is a configuration of:
//   embedding (+ RWKV-7's ln0) -> per layer { norm -> mixer -> residual += ; norm -> FFN ->
//   residual += } -> norm -> head
// with each layer's mixer and FFN a Block chosen by the architecture (models/block.h): RWKV-7 is
// LayerNorms, the time mix and the channel mix; Qwen2 is RMSNorms, attention and SwiGLU; a
// RADLADS student is Qwen2 with the time mix in its RADLADS form as the mixer of some or all
// layers. A built decoder is immutable and may be shared: the states of its sequences and the
// scratch of its passes live outside it (SequenceState, Workspace; a Context holds both).
//
// One forward call advances any number of sequences by any number of tokens each. Their rows go
// through every matrix product together, so the weights are read once for all of them, while
// token shift, recurrences and attention run per sequence on its own state. Consecutive
// sequences share a pass while their rows fit in one chunk (models/batch_plan.h); a longer one
// runs alone, chunk by chunk. One sequence of T tokens is the B = 1 case of the same code: T = 1
// is the decoding step (matrix-vector products streaming the weights), T > 1 chunked prefill.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/block.h"
#include "models/blocks/embedding.h"
#include "models/blocks/norm.h"
#include "models/param_table.h"
#include "models/sequence_state.h"
#include "models/state_file.h"
#include "models/workspace.h"
#include "ops/linear.h"

namespace gander::models {

// How a call runs: per context (or per call), not per process.
struct RunOptions {
  ops::Precision precision = ops::Precision::F32;  // BF16: matrix products on the bf16 units
  bool reference = false;                           // the plain reference kernels (ops::ImplScope)
  int64_t chunk = 0;                                // most rows in one pass; 0: the model's default
};

// What one call records for checking against reference implementations.
struct Trace {
  std::vector<Tensor> hidden;     // L+1 of [T, D]: the embedding's output (after ln0), then after each layer
  std::vector<Tensor> mixer_out;  // L of [T, D]: each mixer's output (after its output projection)
  Tensor normed;                  // [T, D]: the final norm's output
};

// A training batch: B sequences of T tokens each, ids and next-token targets ([B*T] each, sequence
// after sequence; a negative target takes no part in the loss).
struct TrainBatch {
  std::span<const int32_t> ids, targets;
  int64_t batch = 1, seq = 0;
  const SequenceState* initial = nullptr;  // every sequence starts from it (state tuning); null: zeros
};
struct TrainOptions {
  float l2wrap = 0;  // RWKV's L2Wrap factor (the official trainer: 1e-4); 0: plain cross-entropy
  ops::Precision precision = ops::Precision::F32;  // of the matrix products (TrainPass::precision)
};

// One sequence's part of a batched call: its tokens and the state they advance.
struct SequenceInput {
  std::span<const int32_t> ids;
  SequenceState* state;
};

struct Layer {
  Norm mixer_norm;
  std::unique_ptr<Block> mixer;
  Norm ffn_norm;
  std::unique_ptr<Block> ffn;
};

// What the architecture says about a model.
struct DecoderInfo {
  std::string architecture;     // the registry's name: "rwkv7", "qwen2"
  std::string shape;            // "L12 D768 ..." (state files record it)
  std::string source;           // the file or folder it came from
  std::string format;           // "pth", "safetensors", "folder", "random"
  Naming native = Naming::Hf;   // the naming of its canonical parameter names
  Naming naming = Naming::Hf;   // the naming of the file it came from
  int64_t parameter_count = 0;  // as the architecture counts them; 0: every element held
  int64_t max_positions = 0;    // the longest context (max_position_embeddings); 0: none
  StateFileKind state_file;
  std::string state_prefix = "layers.";  // state entries of layer l are named <prefix><l>.<name>
  int64_t chunk_f32 = 512, chunk_bf16 = 512;  // default pass lengths by precision
};

class Decoder {
 public:
  Decoder(DecoderInfo info, Embedding embedding, std::vector<Layer> layers, Norm final_norm, Head head);
  Decoder(const Decoder&) = delete;  // the parameter table points into it
  Decoder& operator=(const Decoder&) = delete;

  const DecoderInfo& info() const { return info_; }
  DecoderInfo& info() { return info_; }
  int64_t vocab() const { return embedding_.vocab; }
  int64_t width() const { return embedding_.width; }
  int64_t n_layer() const { return int64_t(layers_.size()); }
  const std::vector<Layer>& layers() const { return layers_; }

  // Every parameter, declared by the blocks (embedding, per layer its two norms, mixer and FFN,
  // final norm, head; the weight fingerprint's order). The table points into this decoder: load,
  // random init, save and conversion write through it before finish(); no one writes through it
  // afterwards (the model may be shared).
  ParamTable& params() { return table_; }
  const ParamTable& params() const { return table_; }
  // Once the weights are in: fingerprints the row-major weights, then moves matrices into tiles.
  void finish();
  bool finished() const { return finished_; }
  bool runnable() const { return finished_ || training_; }  // forward may run (finished, or in training)
  // Training: forward (validation, sampling) runs on the f32 row-major master weights as the
  // optimizer leaves them, without finish() (no tiles, no fixed fingerprint: the weights move).
  void allow_training_forward();

  DType matrix_dtype() const { return embedding_.table.dtype(); }  // of the weight matrices
  uint64_t fingerprint() const { return fingerprint_; }
  int64_t weight_bytes() const { return bytes_; }
  int64_t parameter_count() const;
  const std::shared_ptr<const StateLayout>& state_layout() const { return layout_; }
  SequenceState new_state() const { return SequenceState(layout_); }
  StateOwner state_owner() const;  // for state files
  int64_t chunk(const RunOptions& opt) const;
  // Bytes read per decoding step of `batch` sequences at a context of `position` tokens (the
  // weights once; each sequence's state read and written, or its KV cache read).
  double decode_bytes(int64_t position, int64_t batch) const;
  // FLOPs of a prompt of n tokens: every layer for every token, the head for the last.
  double prefill_flops(int64_t n) const;

  // Advances each sequence by its ids. logits: [sum of T, V] when all_logits, else [B, V] (each
  // sequence's last token). Ids are checked against the vocabulary, states against the model.
  void forward(std::span<const SequenceInput> seqs, Workspace& ws, const RunOptions& opt, Tensor& logits,
               bool all_logits = false) const;
  // Training (decoder_train.cpp): the mean cross-entropy of the batch, with the gradient of every
  // trainable parameter added into g and, when d_initial is given, that of the initial state
  // (summed over the sequences; a state of this model's layout). The weights must be f32 and
  // row-major (models::make_master_weights on a decoder that is not finished).
  double train_step(const TrainBatch& batch, Gradients& g, const TrainOptions& opt = {},
                    SequenceState* d_initial = nullptr) const;

  // RADLADS (decoder_distill.cpp): this decoder is the student of `teacher`, a Qwen2 decoder of the
  // same dimensions with f32 row-major weights that stay fixed; gradients go into g (the
  // student's). Step 1, attention alignment: every layer runs on the residual stream the
  // teacher's attention drives (the student's own norms and MLPs, the teacher's attention output
  // added), and the loss is the mean over converted layers and rows of |y_student - y_teacher|
  // / sqrt(D) of the mixer outputs; only converted mixers get gradients (a hybrid's attention
  // layers are not aligned). Returns the loss.
  double align_step(const Decoder& teacher, const TrainBatch& batch, Gradients& g, const TrainOptions& opt = {}) const;
  // Step 2, knowledge distillation: the mean over tokens of KL(teacher || student) of the
  // next-token distributions at temperature 1, every trainable student parameter's gradient.
  double distill_step(const Decoder& teacher, const TrainBatch& batch, Gradients& g, const TrainOptions& opt = {}) const;

  // One sequence in one pass, recording what Trace holds; logits for every token.
  void trace(std::span<const int32_t> ids, SequenceState& state, Workspace& ws, const RunOptions& opt, Tensor& logits,
             Trace& trace) const;

 private:
  void check(std::span<const int32_t> ids, const SequenceState& state) const;
  // What a training forward keeps for the backward (decoder_train.cpp). It holds the pass, whose
  // segments point into it: build it in place, never move it.
  struct TrainRun {
    std::vector<SequenceState> states;
    std::vector<Segment> segs;
    TrainPass pass;
    Tensor looked_up, x, normed;  // the embedding's rows, the final residual stream, its norm
    std::vector<Tensor> x_in, n_in, x_mid, n_mid;  // per layer: stream and normed input of both blocks
    std::vector<Tape> mixer_tape, ffn_tape;
  };
  void check_training(const TrainBatch& b, const SequenceState* d_initial) const;
  // Sets up run's states and pass; keep = false drops each layer's activations as it goes (a
  // forward without backward, such as the teacher's).
  void train_begin(const TrainBatch& b, Gradients* g, const TrainOptions& opt, SequenceState* d_initial,
                   TrainRun& run) const;
  void train_forward(const TrainBatch& b, TrainRun& run, bool keep) const;
  // From the gradient at the final norm's output back to the embedding.
  void train_backward(const TrainBatch& b, TrainRun& run, const Tensor& d_normed, Gradients& g) const;
  const Tensor& head_matrix() const { return head_.tied ? embedding_.table : head_.weight; }
  void forward_alone(std::span<const int32_t> ids, SequenceState& state, Workspace& ws, const RunOptions& opt,
                     Tensor& logits, bool all_logits) const;
  void run_pass(std::span<const int32_t> ids, std::span<const Segment> segs, Workspace& ws, const RunOptions& opt,
                Tensor* logits, bool all_logits, Trace* trace) const;

  DecoderInfo info_;
  Embedding embedding_;
  std::vector<Layer> layers_;
  Norm final_norm_;
  Head head_;
  ParamTable table_;
  std::shared_ptr<const StateLayout> layout_;
  bool finished_ = false, training_ = false;
  uint64_t fingerprint_ = 0;
  int64_t bytes_ = 0, count_ = 0;
  int residual_slot_, normed_slot_, last_slot_;
};

}  // namespace gander::models
