// gander demo: a short, self-contained tour that needs no download. It builds a random RWKV-7
// model of the released 0.1B shape, shows that the two execution paths agree and that states
// fork and persist, and measures prefill/decode against this machine's memory bandwidth.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/cpu.h"
#include "core/threads.h"
#include "core/timer.h"
#include "models/context.h"
#include "models/rwkv7/model.h"
#include "ops/peaks.h"

namespace gander::cli {

namespace {
double max_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_f32_vector(), y = b.to_f32_vector();
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::fabs(double(x[i]) - y[i]));
  return d;
}
}  // namespace

void register_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "A short self-contained demonstration (no downloads)");
  auto shape = std::make_shared<std::string>("L12,D768,V65536");
  auto threads = std::make_shared<std::string>();
  cmd->add_option("--shape", *shape, "RWKV-7 shape of the random model")->capture_default_str();
  add_threads_option(cmd, *threads);
  cmd->callback([=] {
    using namespace rwkv7;
    const ThreadSetting ts = ThreadSetting::parse(*threads);
    set_num_threads(ts.count);
    std::printf("gander demo: RWKV-7 on %s, no downloads.\n\n", ThreadSetting{ts.count, false}.describe().c_str());
    const Config c = Config::parse_shape(*shape);
    double t0 = now_seconds();
    const std::shared_ptr<const models::Decoder> model = random(c, DType::BF16, 42);
    std::printf("1. Built a random RWKV-7 model %s (%.1fM parameters, bf16 weights) in %.1f s.\n",
                c.describe().c_str(), double(c.parameter_count()) / 1e6, now_seconds() - t0);

    std::vector<int32_t> prompt(64);
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t(1 + (i * 2654435761u) % uint32_t(c.vocab - 1));
    models::Context ctx(model, {.precision = ops::Precision::F32});
    const auto chunked = ctx.join(), stepped = ctx.join();
    Tensor all, one, last = Tensor::empty(DType::F32, {1, c.vocab});
    ctx.forward(chunked, prompt, all, true);
    for (int32_t id : prompt) {
      const int32_t ids[1] = {id};
      ctx.forward(stepped, ids, one);
    }
    const std::string wkv = state_name(c.n_layer - 1, "wkv");
    std::printf("2. Chunked prefill (matrix products) vs token-by-token recurrence over %zu tokens:\n"
                "   last logits differ by at most %.2e; WKV state by %.2e.\n",
                prompt.size(), max_diff(all.row(int64_t(prompt.size()) - 1), one.row(0)),
                max_diff(ctx.state(chunked).get(wkv), ctx.state(stepped).get(wkv)));

    const std::string path = (std::filesystem::temp_directory_path() / "gander_demo_state.safetensors").string();
    save_sequence_state(path, ctx.state(chunked), model->state_owner());
    const auto loaded = ctx.join(load_sequence_state(path, model->state_layout(), model->state_owner()));
    const auto fork = ctx.join(ctx.state(chunked).clone());
    const int32_t next[1] = {7};
    Tensor a, b;
    ctx.forward(loaded, next, a);
    ctx.forward(fork, next, b);
    std::printf("3. Saved the state (%.1f MB, constant whatever the context length), loaded it back and\n"
                "   continued both copies: they agree to %.1e.\n",
                double(ctx.state(chunked).bytes()) / 1e6, max_diff(a, b));
    std::filesystem::remove(path);

    ctx.options().precision = ops::Precision::BF16;
    std::vector<int32_t> long_prompt(512);
    for (size_t i = 0; i < long_prompt.size(); ++i) long_prompt[i] = int32_t(1 + (i * 40503u) % uint32_t(c.vocab - 1));
    const auto s = ctx.join();
    t0 = now_seconds();
    ctx.forward(s, long_prompt, last);
    const double prefill = double(long_prompt.size()) / (now_seconds() - t0);
    const int steps = 32;
    t0 = now_seconds();
    for (int i = 0; i < steps; ++i) {
      const int32_t id[1] = {int32_t(1 + i)};
      ctx.forward(s, id, last);
    }
    const double decode = steps / (now_seconds() - t0);
    const double bw = ops::measure_read_bandwidth(size_t(1) << 30, 3);
    const double bytes = model->decode_bytes(0, 1);
    std::printf("4. Speed: prefill %.0f tokens/s (512-token prompt, %s);\n"
                "   decode %.1f tokens/s = %.0f%% of the %.1f tokens/s that %.1f GB/s of memory bandwidth allows.\n",
                prefill, cpu_has_amx_bf16() ? "bf16 on the AMX matrix units" : "bf16 weights widened to f32: no AMX here",
                decode, 100 * decode / (bw * 1e9 / bytes), bw * 1e9 / bytes, bw);
    std::printf("\nNext: `gander generate MODEL.pth --tokenizer rwkv_vocab_v20230424.txt --prompt ...`,\n"
                "`gander chat`, `gander bench --random rwkv7:L24,D1024,V65536`, `gander bench-ops`.\n");
  });
}

}  // namespace gander::cli
