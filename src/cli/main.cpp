#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"gander: an engine for RWKV-7 Goose models and RADLADS conversion"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gander 0.1.0");
  gander::cli::register_generate(app);
  gander::cli::register_chat(app);
  gander::cli::register_forward(app);
  gander::cli::register_bench(app);
  gander::cli::register_tokenize(app);
  gander::cli::register_inspect(app);
  gander::cli::register_bench_ops(app);
  gander::cli::register_bench_tokenizer(app);
  gander::cli::register_demo(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "error: %s (see --help)\n", e.what());
    return e.get_exit_code();
  } catch (const gander::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
