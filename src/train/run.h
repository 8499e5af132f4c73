// A training run as `gander train` runs it: the model (fresh, with its architecture's official
// init, or loaded), the shards and their window walk, the trainer, the schedule, periodic
// validation, metrics (OUT/metrics.jsonl, one JSON object per line), atomic checkpoints
// (run_checkpoint.h) and at the end the trained model (OUT/final/, a folder every command loads)
// or the tuned state (OUT/time_state.safetensors). Resuming continues from the newest checkpoint
// and reproduces the uninterrupted run bit for bit: the weights, moments and step come back
// exactly, the data of a step is a function of the step, and nothing else carries over.
//
// Every check that can fail on the user's input (config, shards, tokenizer, model, the output
// folder, the checkpoint to resume) runs before the first step.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "train/comm.h"
#include "train/run_config.h"

namespace gander::train {

struct StepReport {
  int64_t step = 0, total_steps = 0, tokens = 0;
  double loss = 0, lr = 0, grad_norm = 0, tokens_per_s = 0, seconds = 0, eta_seconds = 0;
};
struct EvalReport {
  int64_t step = 0, tokens = 0, scored = 0;
  double loss = 0, perplexity = 0, bits_per_byte = 0;
};
struct RunHooks {
  std::function<void(const StepReport&)> step;
  std::function<void(const EvalReport&)> eval;
  std::function<void(const std::string&)> note;  // what was loaded, resumed, written
};
struct RunResult {
  int64_t steps = 0, tokens = 0;
  double seconds = 0;
  EvalReport last_eval;  // step 0 when the run has no validation data
  std::string output;    // OUT/final or OUT/time_state.safetensors
};

RunResult run_training(const RunConfig& config, bool resume, Communicator& comm, const RunHooks& hooks = {});

}  // namespace gander::train
