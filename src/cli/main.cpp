#include <cstdio>
#include <exception>
#include <new>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "core/error.h"
#include "core/signals.h"

int main(int argc, char** argv) {
  gander::signals::install_handlers();
  CLI::App app{"gander: an engine for RWKV-7 Goose models and RADLADS conversion"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gander 0.1.0");
  gander::cli::register_generate(app);
  gander::cli::register_chat(app);
  gander::cli::register_forward(app);
  gander::cli::register_bench(app);
  gander::cli::register_tokenize(app);
  gander::cli::register_inspect(app);
  gander::cli::register_convert(app);
  gander::cli::register_data(app);
  gander::cli::register_perplexity(app);
  gander::cli::register_train(app);
  gander::cli::register_plot(app);
  gander::cli::register_bench_ops(app);
  gander::cli::register_bench_train(app);
  gander::cli::register_bench_tokenizer(app);
  gander::cli::register_demo(app);
  int code = 0;
  try {
    app.parse(argc, argv);
    gander::cli::check_stdout();
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "error: %s (see --help)\n", e.what());
    return e.get_exit_code();
  } catch (const gander::cli::ExitCode& e) {
    code = e.code;
  } catch (const gander::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    code = 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    code = 1;
  } catch (const std::exception& e) {
    // Every reader turns bad input into a gander::Error naming the file; reaching this is a bug.
    std::fprintf(stderr, "error: internal: %s\n", e.what());
    code = 2;
  }
  std::fflush(stdout);
  return code;
}
