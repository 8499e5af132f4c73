// gander bench: prefill and decode speed of a model (or a random one of a released shape), next
// to the limits of this machine measured in the same run.
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <span>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "io/atomic_file.h"
#include "cli/model_args.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/timer.h"
#include "ops/linear.h"
#include "ops/peaks.h"

namespace gander::cli {

namespace {
// Why decoding can beat the bandwidth "ceiling": it is a plain streaming read, one stream per thread.
std::string over_ceiling_note(int64_t weight_bytes) {
  const long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (llc > 0 && weight_bytes < llc)
    return concat("(over 100 %: the ", weight_bytes >> 20, " MiB of weights fit in the ", llc >> 20,
                  " MiB last-level cache, so decoding is not bound by memory here)");
  return "(over 100 %: the kernels keep more reads in flight than the plain streaming read that sets the ceiling, "
         "and part of the weights stays in the last-level cache between tokens)";
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}
}  // namespace

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode tokens/s against this machine's limits");
  auto margs = std::make_shared<ModelArgs>();
  auto prompt_tokens = std::make_shared<int64_t>(512);
  auto gen_tokens = std::make_shared<int64_t>(64);
  auto reps = std::make_shared<int>(3);
  auto batch = std::make_shared<int64_t>(1);
  auto json_path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto as_row = std::make_shared<bool>(false);
  // A benchmark runs a fixed thread count by default; "auto" times decoding as generate runs it.
  margs->add_to(cmd, std::to_string(hardware_threads()));
  cmd->add_option("--prompt-tokens", *prompt_tokens, "Prompt length for prefill")
      ->capture_default_str()
      ->check(in_range(0, 1 << 20));
  cmd->add_option("--gen-tokens", *gen_tokens, "Tokens decoded one at a time")
      ->capture_default_str()
      ->check(in_range(1, 1 << 20));
  cmd->add_option("--batch", *batch,
                  "Decode this many sequences together (each continuing from the prompt; the weights are read once "
                  "per step for all): decode tokens/s is their sum")
      ->capture_default_str()
      ->check(in_range(1, 4096));
  cmd->add_option("--reps", *reps, "Repetitions (the median is reported)")->capture_default_str()->check(in_range(1, 1000));
  cmd->add_flag("--json", *as_json, "Print the result as JSON");
  cmd->add_flag("--markdown-row", *as_row, "Print one Markdown table row (bench/rwkv7.sh builds RESULTS tables)");
  cmd->add_option("--json-out", *json_path, "Also write the JSON to this file");
  cmd->callback([=] {
    if (!json_path->empty()) io::check_writable(*json_path, "--json-out");
    const ThreadSetting threads = margs->thread_setting();
    ThreadGovernor governor(threads.count);
    const double t_load = now_seconds();
    auto model = margs->load();
    const double load_s = now_seconds() - t_load;
    const int64_t V = model->vocab();
    Rng rng(7);
    std::vector<int32_t> prompt(static_cast<size_t>(*prompt_tokens));
    for (auto& id : prompt) id = int32_t(1 + rng.below(uint64_t(V - 1)));

    Tensor logits;
    // Warm up (page in mapped weights, size scratch), then take the resident set before the
    // probes allocate their own memory.
    {
      model->reset();
      if (!prompt.empty()) model->feed(prompt, logits);
      const int32_t one[1] = {1};
      model->feed(one, logits);
    }
    const double rss_mib = peak_rss_mib();
    // The two execution paths on the same tokens: the chunked prefill (matrix products) and the
    // token-by-token step (matrix-vector products, the recurrence or KV cache one row at a time)
    // must give the same last logits; a bf16 prefill differs by its rounding.
    double path_diff = -1, logit_scale = 0;
    if (const size_t n = std::min<size_t>(prompt.size(), 16); n > 1) {
      Tensor chunked, stepped;
      model->reset();
      model->feed(std::span<const int32_t>(prompt.data(), n), chunked);
      model->reset();
      for (size_t i = 0; i < n; ++i) model->feed(std::span<const int32_t>(prompt.data() + i, 1), stepped);
      const auto a = chunked.to_f32_vector(), b = stepped.to_f32_vector();
      path_diff = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        path_diff = std::max(path_diff, std::fabs(double(a[i]) - b[i]));
        logit_scale = std::max(logit_scale, std::fabs(double(b[i])));
      }
    }
    // The machine's limits drift over seconds on a shared host, so each repetition probes the read
    // bandwidth just before it runs and the matrix peak just after (a second of full-rate AMX work
    // right before slowed the prefill that followed by ~15 %), and its shares are taken against
    // those: the reported shares are medians of per-repetition ratios.
    const bool bf16 = model->precision() == ops::Precision::BF16;
    const int64_t B = *batch;
    // Per decoded token: a batched step reads the weights once for all B sequences.
    const double bytes_per_token = model->decode_bytes_per_step(*prompt_tokens + *gen_tokens / 2, B) / double(B);
    const double flops = model->prefill_flops(*prompt_tokens);
    std::vector<double> pre_tps, pre_share, peak, dec_tps, dec_share, bw;
    for (int r = 0; r < *reps; ++r) {
      bw.push_back(ops::measure_read_bandwidth(size_t(1) << 30, 3));
      // The probes evicted the model from the caches: an untimed pass brings it back, so that
      // every repetition times the warm steady state, as llama-bench does.
      model->reset();
      if (!prompt.empty()) model->feed(prompt, logits);
      model->reset();
      double t0 = now_seconds();
      if (!prompt.empty()) {
        model->feed(prompt, logits);
        const double dt = now_seconds() - t0;
        pre_tps.push_back(double(prompt.size()) / dt);
      }
      if (B > 1) model->start_batch(B);  // B sequences continuing from the prompt
      std::vector<int32_t> next(size_t(B), 1);
      t0 = now_seconds();
      for (int64_t i = 0; i < *gen_tokens; ++i) {
        if (threads.adaptive) governor.begin_step();
        if (B > 1) model->feed_batch(next, logits);
        else model->feed(next, logits);
        if (threads.adaptive) governor.end_step();
        for (int64_t b = 0; b < B; ++b) next[size_t(b)] = int32_t(1 + ((i + 31 * b) * 7919) % (V - 1));
      }
      dec_tps.push_back(double(B * *gen_tokens) / (now_seconds() - t0));
      set_num_threads(threads.count);
      dec_share.push_back(dec_tps.back() / (bw.back() * 1e9 / bytes_per_token));
      if (!prompt.empty()) {
        peak.push_back(ops::measure_matmul_peak(bf16));
        pre_share.push_back(flops * pre_tps.back() / double(prompt.size()) / 1e9 / peak.back());
      }
    }
    auto median = [](std::vector<double> v) {
      if (v.empty()) return 0.0;
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    const double bw_med = median(bw), ceiling = bw_med * 1e9 / bytes_per_token;
    const double pre = median(pre_tps), pre_gflops = pre * flops / double(std::max<size_t>(prompt.size(), 1)) / 1e9;
    const double mm_peak = median(peak), pre_frac = median(pre_share);
    const double dec = median(dec_tps), dec_frac = median(dec_share);
    nlohmann::json j = {{"model", model->source()}, {"architecture", model->architecture()}, {"shape", model->describe()},
                        {"matrix_dtype", dtype_name(model->matrix_dtype())},
                        {"prefill_precision", bf16 ? "bf16" : "f32"}, {"threads", threads.count},
                        {"thread_policy", threads.adaptive ? "auto" : "fixed"},
                        {"load_seconds", load_s}, {"prompt_tokens", *prompt_tokens}, {"gen_tokens", *gen_tokens},
                        {"reps", *reps}, {"batch", B}, {"prefill_tokens_per_s", pre}, {"prefill_gflops", pre_gflops},
                        {"matmul_peak_gflops", mm_peak}, {"prefill_fraction_of_matmul_peak", pre_frac},
                        {"decode_tokens_per_s", dec}, {"bytes_per_token", bytes_per_token},
                        {"read_bandwidth_gbs", bw_med}, {"decode_ceiling_tokens_per_s", ceiling},
                        {"decode_fraction_of_ceiling", dec_frac}, {"peak_rss_mib", rss_mib},
                        {"weights_mib", double(model->weight_bytes()) / 1048576.0}};
    if (path_diff >= 0) {
      j["prefill_vs_step_max_diff"] = path_diff;  // last logits, chunked prefill vs one token at a time
      j["prefill_vs_step_logit_scale"] = logit_scale;
    }
    StdoutWriter out;
    if (*as_json) {
      out.write(j.dump(2) + "\n");
    } else if (*as_row) {
      std::printf("| %s %s | %s | %.0f | %.0f%% | %.1f | %.1f | %.0f%% | %.1f | %.0f / %.0f |\n",
                  model->architecture().c_str(), model->describe().c_str(), dtype_name(model->matrix_dtype()), pre,
                  100 * pre_frac, dec, ceiling, 100 * dec_frac, bw_med, rss_mib,
                  double(model->weight_bytes()) / 1048576.0);
    } else {
      std::printf("%s %s (%s, %s weights, %s)\n", model->architecture().c_str(), model->describe().c_str(),
                  model->source().c_str(), dtype_name(model->matrix_dtype()), threads.describe().c_str());
      std::printf("prefill: %.1f tokens/s for %lld tokens (%s products: %.0f GFLOP/s, %.0f%% of the %.0f GFLOP/s matmul peak)\n",
                  pre, (long long)*prompt_tokens, bf16 ? "bf16" : "f32", pre_gflops, 100 * pre_frac, mm_peak);
      if (B > 1) std::printf("decode:  %lld sequences at once, %.1f tokens/s in all (%.1f each)\n", (long long)B, dec,
                             dec / double(B));
      std::printf("decode:  %.1f tokens/s (%.0f MB per token; ceiling %.1f tokens/s at %.1f GB/s read bandwidth: %.0f%%)\n",
                  dec, bytes_per_token / 1e6, ceiling, bw_med, 100 * dec_frac);
      if (dec_frac > 1) std::printf("         %s\n", over_ceiling_note(model->weight_bytes()).c_str());
      std::printf("         medians of %d repetitions; shares against the limits probed beside each\n", *reps);
      std::printf("memory:  peak RSS %.0f MiB (weights %.0f MiB)\n", rss_mib, double(model->weight_bytes()) / 1048576.0);
      if (path_diff >= 0)
        std::printf("paths:   chunked prefill vs one token at a time over %zu tokens: last logits differ by %.2e (largest %.2f)\n",
                    std::min<size_t>(prompt.size(), 16), path_diff, logit_scale);
    }
    if (!json_path->empty()) io::write_file(*json_path, j.dump(2) + "\n");
  });
}

}  // namespace gander::cli
