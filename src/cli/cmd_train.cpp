// gander train CONFIG.yaml [--set key=value ...] [--resume]: a training run (train/run.h) with a
// live progress line on a terminal (a line every ~5 % of the run otherwise), validation lines,
// and a JSON summary with --json. Under mpirun, data parallel over the processes (rank 0 writes).
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "cli/run_progress.h"
#include "core/error.h"
#include "core/threads.h"
#include "train/run.h"

namespace gander::cli {
namespace {

void print_keys() {
  std::printf("%-26s %-16s %-12s %s\n", "key", "type", "default", "meaning");
  for (const train::ConfigKey& k : train::config_keys())
    std::printf("%-26s %-16s %-12s %s\n", k.name, k.type, k.default_value, k.doc);
}

}  // namespace

void register_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train or fine-tune a model, or tune its initial state, from a YAML config "
                                          "(keys: gander train --keys; docs/training.md)");
  struct Opts {
    std::string config, threads;
    std::vector<std::string> set;
    bool resume = false, keys = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("config", o->config, "The run's configuration (YAML)");
  cmd->add_option("--set", o->set, "Override a key: --set optimizer.lr=3e-4 (repeatable)");
  cmd->add_flag("--resume", o->resume, "Continue the run in run.out from its newest checkpoint");
  cmd->add_flag("--keys", o->keys, "List every configuration key with its type and default, and exit");
  cmd->add_flag("--json", o->json, "Print a JSON summary at the end");
  add_threads_option(cmd, o->threads, std::to_string(hardware_threads()));
  cmd->callback([o] {
    if (o->keys) {
      print_keys();
      return;
    }
    if (o->config.empty()) fail("train: give a configuration file (gander train CONFIG.yaml; keys: gander train --keys)");
    // Over a file-size limit a write then fails with EFBIG and is reported, instead of SIGXFSZ
    // ending the process: the same path as a full disk.
    std::signal(SIGXFSZ, SIG_IGN);
    set_num_threads(ThreadSetting::parse(o->threads).count);
    const train::RunConfig config = train::load_run_config(o->config, o->set);
    std::unique_ptr<train::Communicator> comm = train::make_communicator();
    RunProgress progress;
    const train::RunResult r = train::run_training(config, o->resume, *comm, progress.hooks());
    progress.finish();
    if (o->json && comm->rank() == 0) {
      nlohmann::json j = {{"steps", r.steps},        {"tokens", r.tokens},         {"seconds", r.seconds},
                          {"output", r.output},      {"processes", comm->size()}};
      if (r.last_eval.scored > 0) {
        j["valid_loss"] = r.last_eval.loss;
        j["valid_perplexity"] = r.last_eval.perplexity;
      }
      std::printf("%s\n", j.dump().c_str());
    }
  });
}

}  // namespace gander::cli
