#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace gander::train {

double Schedule::at(int64_t step) const {
  const double span = double(std::max<int64_t>(total_steps - warmup_steps, 1));
  const double progress = std::clamp(double(step - warmup_steps) / span, 0.0, 1.0);
  const double window = std::max(decay_end - decay_start, 1e-12);
  const double p = std::clamp((progress - decay_start) / window, 0.0, 1.0);
  double base;
  if (kind == "constant") base = lr;
  else if (kind == "linear") base = lr + (lr_final - lr) * p;
  else if (kind == "cosine") base = lr_final + (lr - lr_final) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  else if (kind == "quarter_cosine") base = lr_final + (lr - lr_final) * std::cos(std::numbers::pi * p / 2);
  else fail("unknown learning-rate schedule '", kind, "'");
  if (step < warmup_steps) base *= warmup_from + (1.0 - warmup_from) * double(step) / double(warmup_steps);
  return base;
}

}  // namespace gander::train
