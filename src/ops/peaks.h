// Measured limits of the machine, so benchmarks report a fraction of what this machine can do
// in the same run (the host's bandwidth drifts; peaks measured an hour ago are not comparable).
#pragma once
#include <cstddef>

namespace gander::ops {
// Read bandwidth in GB/s over `bytes` with the current thread count, best of `reps`.
double measure_read_bandwidth(size_t bytes = size_t(1) << 30, int reps = 5);
// f32 FMA throughput in GFLOP/s (register-bound AVX-512 or portable loop), all threads.
double measure_fma_peak();
// Achieved GFLOP/s of a large matrix product (n x n x n): the better of oneDNN's (sgemm for f32,
// matmul for bf16) and ours over tiles (AVX-512 FMA for f32, AMX for bf16).
double measure_matmul_peak(bool bf16, int n = 2048);
namespace detail {
double fma_loop_avx512(long iters);  // returns flops done
float sum_avx512(const float* p, size_t n);  // p 64-byte aligned
}
}  // namespace gander::ops
