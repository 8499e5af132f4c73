// The options shared by the commands that run a model: which model (a file, a folder, or a random
// one of a given shape), storage dtype, threads, kernel choice and matrix precision.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "models/rwkv7/model.h"

namespace gander::cli {

struct ModelArgs {
  std::string path;          // checkpoint file or folder
  std::string random;        // e.g. "rwkv7:L12,D768,V65536"
  std::string dtype;         // convert matrices on load: f32, bf16, f16 (default: keep the file's)
  int threads = 0;
  bool reference = false;    // plain reference kernels
  std::string precision = "auto";  // prefill products: auto (bf16 for bf16 weights), f32, bf16
  int64_t chunk = 512;
  uint64_t seed = 0;

  // Adds the options; `positional` makes MODEL a positional argument.
  void add_to(CLI::App* cmd, bool positional = true);
  // Applies threads/kernel settings and loads (or builds) the model.
  std::unique_ptr<rwkv7::Model> load() const;
};

}  // namespace gander::cli
