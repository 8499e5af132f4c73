// gander bench-ops: throughput of every op at model-relevant sizes, next to this machine's
// limits measured in the same run (read bandwidth, f32 FMA peak, oneDNN f32/bf16 matmul peak).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/model_args.h"
#include "io/atomic_file.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/timer.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/peaks.h"
#include "ops/softmax.h"
#include "ops/tiles.h"
#include "ops/wkv7.h"

namespace gander::cli {

namespace {

Tensor randn(Rng& rng, Shape s, float scale = 1.0f, DType dt = DType::F32) {
  Tensor t = Tensor::empty(DType::F32, std::move(s));
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = float(rng.normal()) * scale;
  return dt == DType::F32 ? t : t.to(dt);
}

// Median-free best-of timing: repeats until `min_seconds` has passed (at least 3 runs).
double best_seconds(const std::function<void()>& fn, double min_seconds) {
  fn();  // warm up
  double best = 1e30, spent = 0;
  for (int i = 0; i < 3 || spent < min_seconds; ++i) {
    const double t0 = now_seconds();
    fn();
    const double dt = now_seconds() - t0;
    best = std::min(best, dt);
    spent += dt;
    if (i > 1000) break;
  }
  return best;
}

struct Row {
  std::string op, size, unit;
  double value, fraction;  // fraction of the matching machine limit
  std::string limit;
};

}  // namespace

void register_bench_ops(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-ops", "Benchmark every op against this machine's measured limits");
  auto json_path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto threads = std::make_shared<std::string>();
  auto seconds = std::make_shared<double>(0.3);
  cmd->add_flag("--json", *as_json, "Print the results as JSON (the table goes to standard error)");
  cmd->add_option("--json-out", *json_path, "Also write the results as JSON to this file");
  add_threads_option(cmd, *threads, std::to_string(hardware_threads()));
  cmd->add_option("--seconds", *seconds, "Minimum timing per measurement");
  cmd->callback([=] {
    if (!json_path->empty()) io::check_writable(*json_path, "--json-out");
    set_num_threads(ThreadSetting::parse(*threads).count);
    FILE* table = *as_json ? stderr : stdout;
    Rng rng(42);
    std::fprintf(table, "measuring machine limits with %s...\n", ThreadSetting{num_threads(), false}.describe().c_str());
    const double bw = ops::measure_read_bandwidth();
    const double fma = ops::measure_fma_peak();
    const double mm_f32 = ops::measure_matmul_peak(false);
    const double mm_bf16 = ops::measure_matmul_peak(true);
    std::fprintf(table, "read bandwidth %.1f GB/s | f32 FMA peak %.0f GFLOP/s | matmul 2048^3: f32 %.0f, bf16 %.0f GFLOP/s\n\n",
                bw, fma, mm_f32, mm_bf16);
    std::vector<Row> rows;
    auto add = [&](Row r) {
      std::fprintf(table, "%-28s %-22s %9.1f %-7s %5.0f%% of %s\n", r.op.c_str(), r.size.c_str(), r.value, r.unit.c_str(),
                  100 * r.fraction, r.limit.c_str());
      std::fflush(table);
      rows.push_back(std::move(r));
    };

    // Matrix-vector products (decoding): bound by streaming the weights. Enough copies are cycled
    // through that they cannot stay in the (large, shared) last-level cache, as in a real model.
    // f32 and bf16 weights run both in row-major order and in tiles (ops/tiles.h), the layout models use.
    for (auto [N, K] : std::vector<std::pair<int64_t, int64_t>>{{768, 768}, {3072, 768}, {2048, 2048}, {8192, 2048}, {65536, 768}})
      for (int variant = 0; variant < 4; ++variant) {
        const DType wt = variant < 2 ? DType::F32 : DType::BF16;
        const bool tiled = variant % 2 == 1;
        const int64_t bytes = N * K * int64_t(dtype_size(wt));
        const int64_t copies = std::max<int64_t>(1, (int64_t(1) << 30) / bytes);
        std::vector<Tensor> Ws;
        const Tensor first = randn(rng, {N, K}, 0.05f, wt);
        for (int64_t c = 0; c < copies; ++c) Ws.push_back(tiled ? ops::tile_matrix(first) : first.clone());
        Tensor x = randn(rng, {1, K}), y = Tensor::empty(DType::F32, {1, N});
        size_t next = 0;
        const double s = best_seconds([&] { ops::fast::linear(x, Ws[next++ % Ws.size()], nullptr, y); }, *seconds);
        const double gbs = double(bytes) / s / 1e9;
        add({concat("gemv w", dtype_name(wt), tiled ? " tiles" : ""), concat(N, "x", K), "GB/s", gbs, gbs / bw, "read bw"});
      }
    // Matrix products (prefill of 512 tokens): bound by arithmetic.
    for (auto [N, K] : std::vector<std::pair<int64_t, int64_t>>{{768, 768}, {3072, 768}, {2048, 2048}, {8192, 2048}}) {
      const int64_t M = 512;
      struct V {
        DType wt;
        ops::Precision p;
        bool tiled;
        const char* name;
        double peak;
      };
      for (V v : {V{DType::F32, ops::Precision::F32, false, "gemm wf32", mm_f32},
                  V{DType::F32, ops::Precision::F32, true, "gemm wf32 tiles (AVX-512)", mm_f32},
                  V{DType::BF16, ops::Precision::F32, false, "gemm wbf16 (f32 math)", mm_f32},
                  V{DType::BF16, ops::Precision::BF16, false, "gemm wbf16 (bf16 math)", mm_bf16},
                  V{DType::BF16, ops::Precision::BF16, true, "gemm wbf16 tiles (AMX)", mm_bf16}}) {
        Tensor W = randn(rng, {N, K}, 0.05f, v.wt), x = randn(rng, {M, K}), y = Tensor::empty(DType::F32, {M, N});
        if (v.tiled) W = ops::tile_matrix(W);
        const double s = best_seconds([&] { ops::fast::linear(x, W, nullptr, y, v.p); }, *seconds);
        const double gf = 2.0 * M * N * K / s / 1e9;
        add({v.name, concat(M, "x", N, "x", K), "GFLOP/s", gf, gf / v.peak, v.p == ops::Precision::BF16 ? "bf16 mm" : "f32 mm"});
      }
    }
    // WKV7 over a 512-token chunk at the 0.1B and 1.5B widths: 12 and 32 heads of 64 (RWKV-7),
    // 6 and 16 heads of 128 (a RADLADS student with Qwen2's head_dim; 2x the FLOPs per channel).
    for (auto [H, N] : {std::pair<int64_t, int64_t>{12, 64}, {32, 64}, {6, 128}, {16, 128}}) {
      const int64_t T = 512, C = H * N;
      Tensor r = randn(rng, {T, C}), k = randn(rng, {T, C}, 0.1f), v = randn(rng, {T, C}), a = randn(rng, {T, C}, 0.1f);
      Tensor b = randn(rng, {T, C}, 0.1f), w = Tensor::empty(DType::F32, {T, C}), y = Tensor::empty(DType::F32, {T, C});
      for (int64_t i = 0; i < T * C; ++i) w.data<float>()[i] = 0.9f;
      Tensor st = Tensor::zeros(DType::F32, {H, N, N});
      const double s = best_seconds([&] { ops::fast::wkv7({r, w, k, v, a, b}, st, y); }, *seconds);
      const double gf = 9.0 * double(N * N * H * T) / s / 1e9;
      add({"wkv7", concat("T", T, " H", H, N == 64 ? "" : concat(" N", N)), "GFLOP/s", gf, gf / fma, "f32 fma"});
    }
    // Attention (Qwen2.5-0.5B heads) over a 512-token prompt.
    {
      const int64_t T = 512, Hq = 14, Hkv = 2, D = 64;
      Tensor q = randn(rng, {T, Hq, D}), k = randn(rng, {T, Hkv, D}), v = randn(rng, {T, Hkv, D});
      Tensor o = Tensor::empty(DType::F32, {T, Hq, D});
      const double s = best_seconds([&] { ops::fast::attention(q, k, v, 0, o); }, *seconds);
      const double gf = 4.0 * D * Hq * (double(T) * (T + 1) / 2) / s / 1e9;
      add({"attention", concat("T", T, " Hq", Hq, " Hkv", Hkv), "GFLOP/s", gf, gf / fma, "f32 fma"});
    }
    // Row-wise and element-wise ops: bound by memory traffic (read + write).
    {
      const int64_t R = 512, C = 2048;
      Tensor x = randn(rng, {R, C}), x2 = randn(rng, {R, C}), w = randn(rng, {C}), b = randn(rng, {C});
      Tensor o = Tensor::empty(DType::F32, {R, C});
      const double bytes2 = 2.0 * double(x.nbytes()), bytes3 = 3.0 * double(x.nbytes());
      auto row = [&](const char* name, double bytes, const std::function<void()>& fn) {
        const double gbs = bytes / best_seconds(fn, *seconds) / 1e9;
        add({name, concat(R, "x", C), "GB/s", gbs, gbs / bw, "read bw"});
      };
      row("layer_norm", bytes2, [&] { ops::fast::group_norm(x, 1, w, b, 1e-5f, o); });
      row("group_norm (64/group)", bytes2, [&] { ops::fast::group_norm(x, C / 64, w, b, 64e-5f, o); });
      row("rms_norm", bytes2, [&] { ops::fast::rms_norm(x, w, 1e-6f, o); });
      row("l2_norm_groups", bytes2, [&] { ops::fast::l2_norm_groups(x, 64, 1e-12f, o); });
      row("lerp", bytes3, [&] { ops::fast::lerp(x, x2, w, o); });
      row("softmax", bytes2, [&] { ops::fast::softmax(x, o); });
      for (ops::Act act : {ops::Act::Sigmoid, ops::Act::Tanh, ops::Act::ReluSquared})
        row(concat("activation ", ops::act_name(act)).c_str(), bytes2, [&] { ops::fast::activation(act, x, o); });
    }

    {
      nlohmann::json j;
      j["threads"] = num_threads();
      j["limits"] = {{"read_bandwidth_gbs", bw}, {"f32_fma_gflops", fma}, {"matmul_f32_gflops", mm_f32}, {"matmul_bf16_gflops", mm_bf16}};
      for (auto& r : rows)
        j["ops"].push_back({{"op", r.op}, {"size", r.size}, {"value", r.value}, {"unit", r.unit}, {"fraction_of_limit", r.fraction}, {"limit", r.limit}});
      if (*as_json) StdoutWriter().write(j.dump(2) + "\n");
      if (!json_path->empty()) io::write_file(*json_path, j.dump(2) + "\n");
    }
  });
}

}  // namespace gander::cli
