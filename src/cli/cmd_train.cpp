// gander train CONFIG.yaml [--set key=value ...] [--resume]: a training run (train/run.h) with a
// live progress line on a terminal (a line every ~5 % of the run otherwise), validation lines,
// and a JSON summary with --json. Under mpirun, data parallel over the processes (rank 0 writes).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/error.h"
#include "core/threads.h"
#include "train/run.h"

namespace gander::cli {
namespace {

std::string duration(double s) {
  if (!(s >= 0) || s > 1e8) return "?";
  const long long t = (long long)(s + 0.5);
  char b[32];
  if (t >= 3600) std::snprintf(b, sizeof b, "%lldh%02lldm", t / 3600, t / 60 % 60);
  else if (t >= 60) std::snprintf(b, sizeof b, "%lldm%02llds", t / 60, t % 60);
  else std::snprintf(b, sizeof b, "%llds", t);
  return b;
}

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
    const bool tty = isatty(STDERR_FILENO);
    bool drawn = false;
    train::RunHooks hooks;
    hooks.note = [&](const std::string& s) {
      std::fprintf(stderr, "%s%s\n", drawn ? "\r\033[K" : "", s.c_str());
      drawn = false;
    };
    hooks.step = [&](const train::StepReport& r) {
      const int64_t every = std::max<int64_t>(1, r.total_steps / 20);
      if (!tty && r.step % every != 0 && r.step != r.total_steps) return;
      std::fprintf(stderr, "%sstep %lld/%lld  %.0f tok/s  loss %.4f  lr %.3g  |g| %.3g  %s elapsed, ETA %s%s",
                   tty ? "\r\033[K" : "", (long long)r.step, (long long)r.total_steps, r.tokens_per_s, r.loss, r.lr,
                   r.grad_norm, duration(r.seconds).c_str(), duration(r.eta_seconds).c_str(), tty ? "" : "\n");
      std::fflush(stderr);
      drawn = tty;
    };
    hooks.eval = [&](const train::EvalReport& e) {
      hooks.note(concat("validation at step ", e.step, " (", e.tokens, " tokens): loss ", e.loss, ", perplexity ",
                        e.perplexity, e.bits_per_byte > 0 ? concat(", ", e.bits_per_byte, " bits per byte") : ""));
    };
    const train::RunResult r = train::run_training(config, o->resume, *comm, hooks);
    if (drawn) std::fprintf(stderr, "\n");
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
