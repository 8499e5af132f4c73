// Learning rate by step, as RWKV-LM's and RADLADS' trainers compute it: a linear warmup over the
// first steps (lr * (from + (1 - from) * step / warmup)), then the schedule over the progress
// p = (step - warmup) / (total - warmup) in [0, 1]:
//   constant        lr
//   linear          lr + (lr_final - lr) * p
//   cosine          lr_final + (lr - lr_final) * (1 + cos(pi p)) / 2        (RWKV-LM, half a period)
//   quarter_cosine  lr_final + (lr - lr_final) * cos(pi p / 2)              (RADLADS)
// RADLADS' lr_wait / lr_endpoint narrow the schedule to a window of the progress: with
// q = clamp((p - decay_start) / (decay_end - decay_start), 0, 1) in place of p, the rate holds at
// lr until decay_start, moves to lr_final by decay_end and holds there (Step 2a's "s-cos-s" for the
// mixers: 1e-4 to 1e-5 between 83.3 % and 87.5 % of the tokens).
// The trainers count progress in tokens; with a fixed number of tokens per step that is the same.
#pragma once
#include <cstdint>
#include <string>

namespace gander::train {

struct Schedule {
  std::string kind = "cosine";
  double lr = 6e-4, lr_final = 6e-5, warmup_from = 0.01;
  int64_t warmup_steps = 0, total_steps = 1;
  double decay_start = 0.0, decay_end = 1.0;
  double at(int64_t step) const;  // the learning rate of step 0, 1, ...
};

}  // namespace gander::train
