// Each subcommand lives in its own file and registers itself on the CLI11 app. Handlers throw
// gander::Error on bad input; main() prints it as one line and exits non-zero.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace gander::cli {
// Whole-number options with a lower bound and a short message (CLI11's own ranges print the
// largest double in full as their upper bound).
inline CLI::Validator at_least(long long lo) {
  return CLI::Validator(
      [lo](std::string& text) -> std::string {
        try {
          size_t used = 0;
          if (std::stoll(text, &used) >= lo && used == text.size()) return {};
        } catch (const std::exception&) {
        }
        return "must be a whole number >= " + std::to_string(lo) + ", got '" + text + "'";
      },
      ">=" + std::to_string(lo));
}

void register_tokenize(CLI::App& app);
void register_bench_ops(CLI::App& app);
void register_bench_tokenizer(CLI::App& app);
void register_inspect(CLI::App& app);
void register_demo(CLI::App& app);
void register_generate(CLI::App& app);
void register_chat(CLI::App& app);
void register_forward(CLI::App& app);
void register_bench(CLI::App& app);
}  // namespace gander::cli
