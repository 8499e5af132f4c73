// gander demo: a short, self-contained tour of what exists, needing no download.
#include <cstdio>

#include "cli/commands.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/timer.h"
#include "ops/linear.h"
#include "ops/peaks.h"
#include "ops/wkv7.h"

namespace gander::cli {

void register_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "A short self-contained demonstration (no downloads)");
  cmd->callback([] {
    std::printf("gander demo (%d threads)\n", num_threads());
    Rng rng(1);
    auto randn = [&](Shape s, float scale) {
      Tensor t = Tensor::empty(DType::F32, std::move(s));
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(rng.normal()) * scale;
      return t;
    };
    // 1. Fast kernels agree with their references.
    Tensor x = randn({3, 769}, 1.0f), W = randn({1025, 769}, 0.03f).to(DType::BF16);
    Tensor a = Tensor::empty(DType::F32, {3, 1025}), b = Tensor::empty(DType::F32, {3, 1025});
    ops::ref::linear(x, W, nullptr, a);
    ops::fast::linear(x, W, nullptr, b);
    double d = 0;
    for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, double(std::fabs(a.data<float>()[i] - b.data<float>()[i])));
    std::printf("bf16-weight matrix-vector kernel vs reference: max |diff| = %.2e\n", d);
    // 2. Machine limits and the decode kernel against them.
    const double bw = ops::measure_read_bandwidth(size_t(256) << 20, 3);
    Tensor big = randn({8192, 2048}, 0.02f).to(DType::BF16), v = randn({1, 2048}, 1.0f), y = Tensor::empty(DType::F32, {1, 8192});
    double best = 1e9;
    for (int i = 0; i < 10; ++i) {
      const double t0 = now_seconds();
      ops::fast::linear(v, big, nullptr, y);
      best = std::min(best, now_seconds() - t0);
    }
    std::printf("read bandwidth %.1f GB/s; 8192x2048 bf16 matrix-vector product streams %.1f GB/s (%.0f%%)\n", bw,
                double(big.nbytes()) / best / 1e9, 100 * double(big.nbytes()) / best / 1e9 / bw);
  });
}

}  // namespace gander::cli
