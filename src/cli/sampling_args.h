// Sampling options shared by generate and chat. An option the user gives overrides the model
// family's defaults (generate/sampling_defaults.h); the others keep them.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "generate/sampling_defaults.h"
#include "models/runner.h"

namespace gander::cli {

class SamplingArgs {
 public:
  void add_to(CLI::App* cmd);
  // The model's defaults with every given option applied.
  SamplingDefaults resolve(const Runner& model, const std::string& model_path, bool chat) const;

 private:
  SamplingParams given_;
  CLI::Option *temperature_ = nullptr, *top_p_ = nullptr, *top_k_ = nullptr, *min_p_ = nullptr;
  CLI::Option *presence_ = nullptr, *frequency_ = nullptr, *decay_ = nullptr, *repetition_ = nullptr;
  CLI::Option *ban_ = nullptr, *seed_ = nullptr;
};

}  // namespace gander::cli
