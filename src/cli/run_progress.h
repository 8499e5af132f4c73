// The progress of a training run on standard error, as `gander train`, `gander convert RECIPE`
// and `gander demo` show it: on a terminal one live line (step, tokens/s, loss, learning rate,
// gradient norm, elapsed and ETA) that notes and validation lines scroll above; elsewhere a line
// every ~5 % of the run.
#pragma once
#include <string>

#include "train/run.h"

namespace gander::cli {

class RunProgress {
 public:
  RunProgress();
  // Hooks that draw on this object (which must outlive the run).
  train::RunHooks hooks();
  void note(const std::string& line);  // a line above the live one
  void finish();                        // ends a live line that is still drawn

 private:
  bool tty_, drawn_ = false;
};

std::string duration(double seconds);  // "42s", "3m05s", "1h02m"

}  // namespace gander::cli
