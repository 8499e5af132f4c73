#include "ops/peaks.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/buffer.h"
#include "core/cpu.h"
#include "core/timer.h"
#include "ops/linear.h"
#include "ops/tiles.h"

namespace gander::ops {

double measure_read_bandwidth(size_t bytes, int reps) {
  const size_t n = bytes / sizeof(float);
  AlignedBuffer buf(n * sizeof(float));
  float* p = reinterpret_cast<float*>(buf.mutable_data());
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) p[i] = 1.0f;
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_seconds();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
      // Each thread reads one contiguous, 64-byte aligned slice.
      const size_t nt = size_t(omp_get_num_threads()), t = size_t(omp_get_thread_num());
      const size_t b = n * t / nt / 16 * 16, e = t + 1 == nt ? n : n * (t + 1) / nt / 16 * 16;
      if (cpu_has_avx512()) {
        total += detail::sum_avx512(p + b, e - b);
      } else {
        for (size_t i = b; i < e; ++i) total += p[i];
      }
    }
    const double dt = now_seconds() - t0;
    sink = sink + total;
    best = std::max(best, double(n * sizeof(float)) / dt / 1e9);
  }
  return best;
}

double measure_fma_peak() {
  constexpr long kIters = 20'000'000;
  double flops = 0;
  const double t0 = now_seconds();
#pragma omp parallel reduction(+ : flops)
  {
    if (cpu_has_avx512()) {
      flops += detail::fma_loop_avx512(kIters);
    } else {
      float acc[8][8] = {};
      for (long it = 0; it < kIters / 4; ++it)
        for (int i = 0; i < 8; ++i)
#pragma omp simd
          for (int j = 0; j < 8; ++j) acc[i][j] = acc[i][j] * 0.999999f + 1e-7f;
      volatile float sink = acc[3][3];
      (void)sink;
      flops += double(kIters / 4) * 64 * 2;
    }
  }
  return flops / (now_seconds() - t0) / 1e9;
}

double measure_matmul_peak(bool bf16, int n) {
  std::vector<float> a(size_t(n) * n, 0.5f), c(size_t(n) * n);
  std::vector<float> wf(size_t(n) * n, 0.25f);
  std::vector<uint16_t> wb(size_t(n) * n, f32_to_bf16(0.25f));
  std::vector<uint16_t> tiles;
  std::vector<float> tiles_f32;
  // Our tiled kernels run beside the library's: AMX for bf16, AVX-512 FMA for f32.
  const bool own = bf16 ? cpu_has_amx_bf16() : cpu_has_avx512();
  if (own && bf16) {
    tiles.resize(size_t(tiled_elems(n, n)));
    pack_tiles(wb.data(), n, n, tiles.data());
  } else if (own) {
    tiles_f32.resize(size_t(tiled_elems_f32(n, n)));
    pack_tiles_f32(wf.data(), n, n, tiles_f32.data());
  }
  double best = 0;
  for (int r = 0; r < 4; ++r) {
    for (int kernel = 0; kernel < (own ? 2 : 1); ++kernel) {
      const double t0 = now_seconds();
      if (kernel == 1 && bf16) detail::gemm_tiles_amx({a.data(), nullptr, nullptr, n}, tiles.data(), n, n, c.data(), {});
      else if (kernel == 1) detail::gemm_tiles_f32_avx512({a.data(), nullptr, nullptr, n}, tiles_f32.data(), n, n, c.data(), {});
      else if (bf16) detail::gemm_bf16(a.data(), wb.data(), n, n, n, c.data());
      else detail::gemm_f32(a.data(), wf.data(), n, n, n, c.data(), n);
      const double dt = now_seconds() - t0;
      if (r > 0) best = std::max(best, 2.0 * n * n * double(n) / dt / 1e9);  // first run warms caches
    }
  }
  return best;
}

}  // namespace gander::ops
