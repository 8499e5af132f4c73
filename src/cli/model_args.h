// The options shared by the commands that run a model: which model (an RWKV-7 checkpoint, a
// Qwen2 Hugging Face folder, or a random model of a given shape), storage dtype, threads, kernel
// choice and matrix precision.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "core/threads.h"
#include "models/runner.h"

namespace gander::cli {

// "-t, --threads": the one spelling of the thread option in every command. `default_text` is the
// value when the option is not given ("auto" for the commands that generate).
CLI::Option* add_threads_option(CLI::App* cmd, std::string& threads, const std::string& default_text = "auto");

struct ModelArgs {
  std::string path;          // checkpoint file or folder
  std::string random;        // e.g. "rwkv7:L12,D768,V65536" or "qwen2:L24,D896,H14,KV2,I4864,V151936,T"
  std::string dtype;         // convert matrices on load: f32, bf16, f16 (default: keep the file's)
  std::string time_state;    // RWKV-7: a state-tuned initial state
  std::string threads = "auto";
  bool reference = false;    // plain reference kernels
  std::string precision = "auto";  // prefill products: auto (bf16 for bf16 weights), f32, bf16
  int64_t chunk = 0;         // longest prefill chunk; 0: the model's default
  uint64_t seed = 0;
  CLI::Option* seed_option = nullptr;

  void add_to(CLI::App* cmd, const std::string& threads_default = "auto");
  // Checks every option that can be checked without reading the model (so that a mistake is
  // reported before minutes of loading), then loads; sets the thread count.
  std::unique_ptr<Runner> load() const;
  ThreadSetting thread_setting() const { return ThreadSetting::parse(threads); }
};

}  // namespace gander::cli
