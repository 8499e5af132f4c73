// gander bench-train: training speed (forward, backward and AdamW step of B sequences of T
// tokens) of a random model of a given shape, next to this machine's f32 matrix-product peak
// measured in the same run.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/timer.h"
#include "io/atomic_file.h"
#include "models/registry.h"
#include "ops/peaks.h"
#include "train/trainer.h"

namespace gander::cli {

namespace {
double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

// Matrix FLOPs per trained token: every weight matrix (LoRAs and the head included) takes part in
// three products per token (the forward, the input's gradient, the weight's gradient), 2 FLOPs
// per multiply-add. Attention scores and the WKV recurrence are not counted.
double matrix_flops_per_token(const models::Decoder& d) {
  double elems = 0;
  bool head = false;  // a head of its own; else the (tied) embedding table is the head
  for (const models::Param& p : d.params().params) {
    if (p.kind == models::Kind::Matrix || p.kind == models::Kind::Lora) elems += double(p.slot->numel());
    head = head || (p.kind == models::Kind::Matrix && p.shape == Shape{d.vocab(), d.width()});
  }
  if (!head) elems += double(d.vocab() * d.width());
  return 6.0 * elems;
}
}  // namespace

void register_bench_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-train", "Benchmark training steps of a random model against this machine's peak");
  struct Opts {
    std::string random, threads, json_path;
    int64_t seq = 512, batch = 8, steps = 5, warmup = 1;
    uint64_t seed = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--random", o->random, "The model shape, e.g. rwkv7:L4,D256,V65536 or qwen2:L2,D256,H4,KV2,I512,V4096")
      ->required();
  cmd->add_option("--seq", o->seq, "Tokens per sequence")->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd->add_option("--batch", o->batch, "Sequences per step")->check(CLI::Range(int64_t(1), int64_t(4096)));
  cmd->add_option("--steps", o->steps, "Timed steps (the median is reported)")->check(CLI::Range(int64_t(1), int64_t(1000)));
  cmd->add_option("--warmup", o->warmup, "Untimed steps first")->check(CLI::Range(int64_t(0), int64_t(100)));
  cmd->add_option("--model-seed", o->seed, "Seed of the random model and tokens");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->add_option("--json-out", o->json_path, "Also write the JSON to this file");
  add_threads_option(cmd, o->threads, std::to_string(hardware_threads()));
  cmd->callback([o] {
    if (!o->json_path.empty()) io::check_writable(o->json_path, "--json-out");
    set_num_threads(ThreadSetting::parse(o->threads).count);
    std::unique_ptr<models::Decoder> model = models::trainable_random_model(o->random, o->seed);
    train::Trainer trainer(*model, {}, nullptr);
    const int64_t n = o->batch * o->seq;
    Rng rng(o->seed + 1);
    std::vector<int32_t> ids(size_t(n + 1));
    for (int32_t& id : ids) id = int32_t(rng.next_u64() % uint64_t(model->vocab()));
    const models::TrainBatch batch{std::span(ids).first(size_t(n)), std::span(ids).subspan(1), o->batch, o->seq};
    std::vector<double> seconds, losses;
    for (int64_t s = 0; s < o->warmup + o->steps; ++s) {
      const double t0 = now_seconds();
      losses.push_back(trainer.step(batch).loss);
      if (s >= o->warmup) seconds.push_back(now_seconds() - t0);
    }
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    const double peak = ops::measure_matmul_peak(false);
    const double flops = matrix_flops_per_token(*model) * double(n) / median / 1e9;
    const nlohmann::json j = {{"model", model->info().shape},
                              {"architecture", model->info().architecture},
                              {"batch", o->batch},
                              {"seq", o->seq},
                              {"steps", o->steps},
                              {"threads", num_threads()},
                              {"precision", "f32"},
                              {"tokens_per_s", double(n) / median},
                              {"step_seconds_median", median},
                              {"step_seconds_min", sorted.front()},
                              {"step_seconds_max", sorted.back()},
                              {"loss_first", losses.front()},
                              {"loss_last", losses.back()},
                              {"trained_parameters", trainer.trained_parameters()},
                              {"matrix_gflops", flops},
                              {"matmul_peak_gflops_f32", peak},
                              {"fraction_of_matmul_peak", flops / peak},
                              {"peak_rss_mib", peak_rss_mib()}};
    if (!o->json_path.empty()) io::write_file(o->json_path, j.dump(2) + "\n");
    if (o->json) {
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("%s", concat(model->info().shape, ", ", o->batch, " x ", o->seq, " tokens per step: ",
                        int64_t(double(n) / median), " tokens/s (step ", median, " s, median of ", o->steps,
                        "), matrix products at ", int64_t(flops), " GFLOP/s = ", int64_t(100 * flops / peak),
                        "% of the f32 peak ", int64_t(peak), " GFLOP/s; loss ", losses.front(), " -> ",
                        losses.back(), "; peak RSS ", int64_t(peak_rss_mib()), " MiB\n")
                          .c_str());
  });
}

}  // namespace gander::cli
