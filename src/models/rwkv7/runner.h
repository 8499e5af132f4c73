#pragma once
#include "models/runner.h"
#include "models/rwkv7/model.h"

namespace gander::rwkv7 {
// `initial` is the state reset() returns to (zeros, or a state-tuned one).
std::unique_ptr<Runner> make_runner(std::unique_ptr<Model> model, State initial);
}  // namespace gander::rwkv7
