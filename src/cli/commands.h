// Each subcommand lives in its own file and registers itself on the CLI11 app. Handlers throw
// gander::Error on bad input; main() prints it as one line and exits non-zero.
#pragma once
#include <CLI/CLI.hpp>
#include <charconv>
#include <climits>
#include <string>

namespace gander::cli {
// Whole-number options with a lower bound and a short message (CLI11's own ranges print the
// largest double in full as their upper bound).
inline CLI::Validator in_range(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc() && end == text.data() + text.size() && v >= lo && v <= hi) return {};
        return hi == LLONG_MAX ? "must be a whole number >= " + std::to_string(lo) + ", got '" + text + "'"
                               : "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                                     ", got '" + text + "'";
      },
      hi == LLONG_MAX ? ">=" + std::to_string(lo) : "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}
inline CLI::Validator at_least(long long lo) { return in_range(lo, LLONG_MAX); }

// Thrown by a command that finished its work but must exit with this status (130: stopped by
// Ctrl-C, as a shell reports SIGINT).
struct ExitCode {
  int code;
};

void register_tokenize(CLI::App& app);
void register_bench_ops(CLI::App& app);
void register_bench_train(CLI::App& app);
void register_bench_tokenizer(CLI::App& app);
void register_inspect(CLI::App& app);
void register_demo(CLI::App& app);
void register_generate(CLI::App& app);
void register_chat(CLI::App& app);
void register_forward(CLI::App& app);
void register_bench(CLI::App& app);
void register_convert(CLI::App& app);
void register_data(CLI::App& app);
void register_perplexity(CLI::App& app);
void register_train(CLI::App& app);
void register_plot(CLI::App& app);
}  // namespace gander::cli
