#pragma once
#include "models/qwen2/model.h"
#include "models/runner.h"

namespace gander::qwen2 {
std::unique_ptr<Runner> make_runner(std::unique_ptr<Model> model);
}  // namespace gander::qwen2
