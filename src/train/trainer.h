// One optimizer step of a model, as every training command runs it: gradients of the batch,
// a check that loss and gradients are finite (a NaN names the step and the first tensor that
// has one, before any weight moves), global-norm clipping, the AdamW update.
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "models/decoder.h"
#include "train/adamw.h"
#include "train/comm.h"

namespace gander::train {

struct TrainerConfig {
  AdamWConfig adam;
  double grad_clip = 1.0;  // 0: none
  models::TrainOptions loss;
  // Which parameters train: those matching any of `train` (all when empty) and none of `freeze`
  // (globs over the model's parameter names, e.g. "blocks.*.att.*"). A pattern that matches no
  // parameter is an error: a typo would otherwise train the wrong set without a word.
  std::vector<std::string> train, freeze;
  // State tuning: every weight frozen; what trains is the initial state every sequence starts
  // from (its tunable entries: RWKV-7's WKV matrices, as RWKV-PEFT's time_state), zeros at first.
  bool state_tuning = false;
  // Data parallel: each process passes its own part of the global batch to step(); the gradients
  // and the loss are averaged over the processes before the check, the clip and the update, so
  // every process makes the same update. Null: one process.
  Communicator* comm = nullptr;
  // The loss and gradients of one batch; empty: the model's train_step (cross-entropy with
  // `loss`). RADLADS runs pass their align / distill step with the teacher bound in.
  std::function<double(const models::Decoder&, const models::TrainBatch&, models::Gradients&)> objective;
};

// The predicate for models::Gradients from the patterns above.
std::function<bool(const models::Param&)> select_params(const models::ParamTable& table,
                                                        const std::vector<std::string>& train,
                                                        const std::vector<std::string>& freeze);

// Throws "step N: ..." naming the first non-finite value: the loss, or a gradient tensor.
void check_finite(int64_t step, double loss, const models::Gradients& grads);

struct StepResult {
  double loss = 0, grad_norm = 0;
};

class Trainer {
 public:
  // The model's weights become its own f32 master weights (models::make_master_weights).
  Trainer(models::Decoder& model, TrainerConfig config, Grouping grouping);
  StepResult step(const models::TrainBatch& batch);
  // Gradient accumulation: one update from several micro-batches, each of whose gradients counts
  // 1/n (equal-sized micro-batches give exactly the step of their union: the same loss, the same
  // update), so a batch larger than memory allows runs in pieces. The loss is their mean.
  StepResult step(std::span<const models::TrainBatch> micro_batches);
  int64_t steps() const { return opt_.steps(); }
  const models::Gradients& gradients() const { return grads_; }
  int64_t trained_parameters() const;  // elements
  void set_lr(double lr) { opt_.config().lr = lr; }
  void set_mixer_lr(double lr) { opt_.config().mixer_lr = lr; }
  AdamW& optimizer() { return opt_; }
  // State tuning: the state being tuned (undefined otherwise).
  models::SequenceState& initial_state() { return initial_; }

 private:
  // Averages the gradients (the defined ones, in buckets) and the loss over the processes.
  void average_over_processes(std::vector<Tensor*> grads, double& loss);
  StepResult step_state(std::span<const models::TrainBatch> micro_batches);
  // First, so that it outlives every buffer below: the activations of one step are reused by the next.
  MappingRecycler recycler_{size_t(64) << 30};
  models::Decoder& model_;
  TrainerConfig c_;
  models::Gradients grads_;
  models::SequenceState initial_, d_initial_;  // state tuning
  std::vector<size_t> tuned_entries_;
  AdamW opt_;
};

}  // namespace gander::train
