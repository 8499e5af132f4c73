// A training run's checkpoint: one safetensors file per save, OUT/checkpoints/step-NNNNNNNN.safetensors,
// written atomically (temp file, fsync, rename: a crash leaves the previous one whole) and holding
// what the next step depends on: for every tensor the optimizer moves (the trained parameters,
// or the tuned initial state) its value and both Adam moments ("value/NAME", "adam_m/NAME",
// "adam_v/NAME"), and in the metadata the step, tokens, Adam's step count, wall time, the
// architecture and shape, and the fingerprint of the configuration keys that shape the run.
// Frozen weights are not stored: they are what the run started from (a fresh model is a pure
// function of its shape and seed). The data cursor is the step: sample i of the walk is a
// function of (seed, i) alone (data/windows.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/adamw.h"

namespace gander::train {

struct RunState {
  int64_t step = 0;    // optimizer steps done
  int64_t tokens = 0;  // trained on so far (all processes)
  double seconds = 0;  // wall time of the run so far
  std::string architecture, shape, trajectory;
};

// Writes OUT/checkpoints/step-<step>.safetensors, then removes all but the newest `keep`.
// Returns the path written.
std::string save_run_checkpoint(const std::string& out, const RunState& state, const AdamW& opt, int64_t keep);
// The newest checkpoint in OUT/checkpoints ("" when none).
std::string latest_run_checkpoint(const std::string& out);
// Reads a checkpoint into the optimizer's tensors and moments; every name, shape and the run's
// identity (architecture, shape, trajectory fingerprint) checked against `expect` before
// anything is changed. Returns the state it holds.
RunState load_run_checkpoint(const std::string& path, const RunState& expect, AdamW& opt);

}  // namespace gander::train
