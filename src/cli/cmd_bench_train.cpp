// gander bench-train: training speed (forward, backward and AdamW step of B sequences of T
// tokens) of a random model of a given shape, next to this machine's matrix-product peak (f32 or
// bf16, as the products run) measured in the same run. On random tokens by default; on the
// windows of a text file in order with --text, where the loss per step is the figure that
// compares the two precisions.
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
#include "io/read_file.h"
#include "models/registry.h"
#include "ops/peaks.h"
#include "tokenize/tokenizer.h"
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

// The ids of step s: the same random tokens at every step (as PyTorch's baseline in
// bench/train_pytorch.py), or the s-th window of B*T+1 tokens of the text (wrapping).
struct Batches {
  std::vector<int32_t> text;  // empty: random
  int64_t per_step = 0;
  std::vector<int32_t> ids;
  const std::vector<int32_t>& at(int64_t s, int64_t vocab, uint64_t seed) {
    ids.resize(size_t(per_step + 1));
    if (text.empty()) {
      Rng rng(seed + 1);
      for (int32_t& id : ids) id = int32_t(rng.next_u64() % uint64_t(vocab));
    } else {
      for (int64_t i = 0; i <= per_step; ++i) ids[size_t(i)] = text[size_t((s * per_step + i) % int64_t(text.size()))];
    }
    return ids;
  }
};
}  // namespace

void register_bench_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-train", "Benchmark training steps of a random model against this machine's peak");
  struct Opts {
    std::string random, threads, json_path, precision = "f32", text, tokenizer, losses_path;
    int64_t seq = 512, batch = 8, steps = 5, warmup = 1;
    uint64_t seed = 0;
    double lr = 1e-3;
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
  cmd->add_option("--precision", o->precision, "Matrix products: f32 (exact) or bf16 (operands rounded to bf16, f32 "
                                               "accumulation, f32 master weights)")
      ->check(CLI::IsMember({"f32", "bf16"}));
  cmd->add_option("--lr", o->lr, "AdamW learning rate")->check(CLI::PositiveNumber);
  cmd->add_option("--text", o->text, "Train on this UTF-8 text, window after window, instead of random tokens");
  cmd->add_option("--tokenizer", o->tokenizer, "The tokenizer of --text (the RWKV World vocabulary file)");
  cmd->add_option("--losses-out", o->losses_path, "Write every step's loss here, one JSON number per line");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->add_option("--json-out", o->json_path, "Also write the JSON to this file");
  add_threads_option(cmd, o->threads, std::to_string(hardware_threads()));
  cmd->callback([o] {
    if (!o->json_path.empty()) io::check_writable(o->json_path, "--json-out");
    set_num_threads(ThreadSetting::parse(o->threads).count);
    if (!o->losses_path.empty()) io::check_writable(o->losses_path, "--losses-out");
    if (!o->text.empty() && o->tokenizer.empty()) fail("--text needs --tokenizer (the vocabulary to read it with)");
    const ops::Precision precision = o->precision == "bf16" ? ops::Precision::BF16 : ops::Precision::F32;
    std::unique_ptr<models::Decoder> model = models::trainable_random_model(o->random, o->seed);
    train::TrainerConfig config;
    config.adam.lr = o->lr;
    config.loss.precision = precision;
    train::Trainer trainer(*model, config, nullptr);
    const int64_t n = o->batch * o->seq, total_steps = o->warmup + o->steps;
    Batches batches;
    batches.per_step = n;
    if (!o->text.empty()) {
      const std::unique_ptr<Tokenizer> tok = load_tokenizer(o->tokenizer);
      // About 4 bytes per token in English: tokenize what the steps need and a little more, up to a line end.
      std::string text = io::read_file(o->text, 1024 * io::kMiB, "--text");
      const size_t want = size_t(6 * n * total_steps + 4096), cut = text.find('\n', std::min(want, text.size()));
      if (cut != std::string::npos) text.resize(cut + 1);
      batches.text = tok->encode(text);
      GANDER_CHECK(int64_t(batches.text.size()) > n, o->text, ": ", batches.text.size(),
                   " tokens, fewer than one step's ", n + 1);
      for (int32_t id : batches.text)
        GANDER_CHECK(id < model->vocab(), o->text, ": token ", id, " is outside the model's vocabulary of ", model->vocab());
    }
    std::vector<double> seconds, losses;
    for (int64_t s = 0; s < total_steps; ++s) {
      const std::vector<int32_t>& ids = batches.at(s, model->vocab(), o->seed);
      const models::TrainBatch batch{std::span(ids).first(size_t(n)), std::span(ids).subspan(1), o->batch, o->seq};
      const double t0 = now_seconds();
      losses.push_back(trainer.step(batch).loss);
      if (s >= o->warmup) seconds.push_back(now_seconds() - t0);
    }
    if (!o->losses_path.empty()) {
      std::string lines;
      for (double l : losses) lines += nlohmann::json(l).dump() + "\n";
      io::write_file(o->losses_path, lines);
    }
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    const double peak = ops::measure_matmul_peak(precision == ops::Precision::BF16);
    const double flops = matrix_flops_per_token(*model) * double(n) / median / 1e9;
    const nlohmann::json j = {{"model", model->info().shape},
                              {"architecture", model->info().architecture},
                              {"batch", o->batch},
                              {"seq", o->seq},
                              {"steps", o->steps},
                              {"threads", num_threads()},
                              {"precision", o->precision},
                              {"data", o->text.empty() ? "random tokens" : o->text},
                              {"tokens_per_s", double(n) / median},
                              {"step_seconds_median", median},
                              {"step_seconds_min", sorted.front()},
                              {"step_seconds_max", sorted.back()},
                              {"loss_first", losses.front()},
                              {"loss_last", losses.back()},
                              {"trained_parameters", trainer.trained_parameters()},
                              {"matrix_gflops", flops},
                              {"matmul_peak_gflops", peak},
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
                        "% of the ", o->precision, " peak ", int64_t(peak), " GFLOP/s; loss ", losses.front(), " -> ",
                        losses.back(), "; peak RSS ", int64_t(peak_rss_mib()), " MiB\n")
                          .c_str());
  });
}

}  // namespace gander::cli
