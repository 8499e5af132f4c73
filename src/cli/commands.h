// Each subcommand lives in its own file and registers itself on the CLI11 app. Handlers throw
// gander::Error on bad input; main() prints it as one line and exits non-zero.
#pragma once
#include <CLI/CLI.hpp>

namespace gander::cli {
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
