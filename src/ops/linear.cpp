#include "ops/linear.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/cpu.h"
#include "ops/checks.h"
#include "ops/impl.h"
#include "ops/tiles.h"

namespace gander::ops {

const char* precision_name(Precision p) { return p == Precision::F32 ? "f32" : "bf16"; }

namespace {
void check_linear(const Tensor& x, const Tensor& W, const Tensor* bias, const Tensor& out) {
  require_f32(x, "linear", "x");
  require_f32(out, "linear", "out");
  GANDER_CHECK(W.defined() && W.ndim() == 2, "linear: weight must be a matrix, got ", W.describe());
  GANDER_CHECK(W.dtype() == DType::F32 || W.dtype() == DType::BF16 || W.dtype() == DType::F16,
               "linear: weight dtype must be f32, bf16 or f16, got ", W.describe());
  GANDER_CHECK(W.layout() == Layout::RowMajor || W.dtype() == DType::BF16, "linear: tiles hold bf16 only, got ",
               W.describe());
  const int64_t N = W.dim(0), K = W.dim(1);
  GANDER_CHECK(x.ndim() >= 1 && x.dim(-1) == K, "linear: input ", x.describe(), " does not match weight ", W.describe());
  GANDER_CHECK(out.ndim() >= 1 && out.dim(-1) == N && rows_of(out) == rows_of(x), "linear: output ", out.describe(),
               " does not match input ", x.describe(), " and weight ", W.describe());
  if (bias) {
    require_f32(*bias, "linear", "bias");
    require_numel(*bias, N, "linear", "bias");
  }
}

float weight_at(const Tensor& W, int64_t n, int64_t k) {
  return W.dtype() == DType::F32 ? W.data<float>()[n * W.dim(1) + k] : matrix_at(W, n, k);
}

void add_bias(const Tensor* bias, int64_t rows, int64_t N, float* y) {
  if (!bias) return;
  const float* b = bias->data<float>();
  for (int64_t r = 0; r < rows; ++r)
#pragma omp simd
    for (int64_t n = 0; n < N; ++n) y[r * N + n] += b[n];
}
}  // namespace

namespace ref {
void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out) {
  check_linear(x, W, bias, out);
  const int64_t N = W.dim(0), K = W.dim(1), R = rows_of(x);
  const float* px = x.data<float>();
  float* py = out.data<float>();
  for (int64_t r = 0; r < R; ++r)
    for (int64_t n = 0; n < N; ++n) {
      double acc = bias ? bias->data<float>()[n] : 0.0;
      for (int64_t k = 0; k < K; ++k) acc += double(px[r * K + k]) * weight_at(W, n, k);
      py[r * N + n] = float(acc);
    }
}
}  // namespace ref

namespace detail {
void gemv_portable(const float* x, int64_t rows, const void* W, DType wt, int64_t K, int64_t n_begin, int64_t n_end,
                   float* y, int64_t N) {
  std::vector<float> wrow(static_cast<size_t>(K));
  for (int64_t n = n_begin; n < n_end; ++n) {
    const float* w;
    if (wt == DType::F32) {
      w = static_cast<const float*>(W) + n * K;
    } else {
      convert_to_f32(wt, static_cast<const uint16_t*>(W) + n * K, wrow.data(), size_t(K));
      w = wrow.data();
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * K;
      float acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t k = 0; k < K; ++k) acc += xr[k] * w[k];
      y[r * N + n] = acc;
    }
  }
}
}  // namespace detail

namespace fast {
namespace {
// Below this many weight bytes matrix-vector products run on one thread: waking the team costs
// more than streaming ~100 KB (decoding runs ~20 small products per layer).
constexpr int64_t kParallelGemvBytes = int64_t(128) << 10;

// Matrix-vector products of several jobs (all with R <= kGemvMaxRows input rows) in one parallel
// region. The weights are cut into chunks of consecutive rows of one job (whole 128-row groups, at
// least ~192 KB, so each is a long sequential stream for the kernels), handed to the threads one
// at a time: the two cores of a shared host rarely keep the same pace, and a fixed split by bytes
// waited for the slower one.
void gemv_jobs(std::span<const LinearJob> jobs, int64_t R) {
  constexpr int64_t kChunkRows = 128, kChunkBytes = int64_t(192) << 10;
  struct Chunk {
    size_t job;
    int64_t n0, n1;
  };
  std::vector<Chunk> chunks;
  int64_t total = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const int64_t N = jobs[i].W.dim(0), row_bytes = jobs[i].W.dim(1) * int64_t(dtype_size(jobs[i].W.dtype()));
    const int64_t rows = std::max<int64_t>(1, (kChunkBytes / row_bytes + kChunkRows - 1) / kChunkRows) * kChunkRows;
    for (int64_t n0 = 0; n0 < N; n0 += rows) chunks.push_back({i, n0, std::min(N, n0 + rows)});
    total += N * row_bytes;
  }
  const bool avx512 = cpu_has_avx512();
  auto run = [&](const LinearJob& j, int64_t n0, int64_t n1) {
    const int64_t N = j.W.dim(0), K = j.W.dim(1);
    const float* x = j.x.data<float>();
    float* y = j.out.data<float>();
    if (j.W.layout() == Layout::Tiles) {
      const auto* t = static_cast<const uint16_t*>(j.W.storage());
      (avx512 ? detail::gemv_tiles_avx512 : detail::gemv_tiles_portable)(x, R, t, K, n0, n1, y, N);
    } else {
      (avx512 ? detail::gemv_avx512 : detail::gemv_portable)(x, R, j.W.raw(), j.W.dtype(), K, n0, n1, y, N);
    }
  };
#pragma omp parallel for schedule(dynamic, 1) if (total >= kParallelGemvBytes)
  for (size_t c = 0; c < chunks.size(); ++c) run(jobs[chunks[c].job], chunks[c].n0, chunks[c].n1);
}

// f32 arithmetic on bf16/f16 weights: widen a block of W rows (exact) and run the f32 GEMM on it.
void gemm_widened(const float* x, const Tensor& W, int64_t M, float* y) {
  const int64_t N = W.dim(0), K = W.dim(1);
  const int64_t block = std::max<int64_t>(64, (int64_t(1) << 20) / K);  // ~4 MB of f32 per block
  std::vector<float> wide(static_cast<size_t>(std::min(block, N) * K));
  const bool tiled = W.layout() == Layout::Tiles;
  const auto* storage = static_cast<const uint16_t*>(W.storage());
  for (int64_t n0 = 0; n0 < N; n0 += block) {
    const int64_t nb = std::min(block, N - n0);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < nb; ++i) {
      if (tiled) unpack_tile_rows(storage, K, n0 + i, 1, wide.data() + i * K);
      else convert_to_f32(W.dtype(), storage + (n0 + i) * K, wide.data() + i * K, size_t(K));
    }
    detail::gemm_f32(x, wide.data(), M, nb, K, y + n0, N);
  }
}
}  // namespace

void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, Precision p) {
  check_linear(x, W, bias, out);
  const int64_t N = W.dim(0), K = W.dim(1), R = rows_of(x);
  float* y = out.data<float>();
  if (R == 0) return;
  if (R <= kGemvMaxRows) {
    const LinearJob job{x, W, bias, out};
    gemv_jobs({&job, 1}, R);
  } else if (W.dtype() == DType::F32) {
    detail::gemm_f32(x.data<float>(), W.data<float>(), R, N, K, y, N);
  } else if (p == Precision::BF16 && W.layout() == Layout::Tiles && cpu_has_amx_bf16()) {
    detail::gemm_tiles_amx(x.data<float>(), R, static_cast<const uint16_t*>(W.storage()), N, K, y);
  } else if (p == Precision::BF16 && W.layout() == Layout::RowMajor && W.dtype() == DType::BF16) {
    detail::gemm_bf16(x.data<float>(), W.data_u16(), R, N, K, y);
  } else {
    gemm_widened(x.data<float>(), W, R, y);
  }
  add_bias(bias, R, N, y);
}
}  // namespace fast

void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, Precision p) {
  impl() == Impl::Reference ? ref::linear(x, W, bias, out) : fast::linear(x, W, bias, out, p);
}

void linear_group(std::span<const LinearJob> jobs, Precision p) {
  if (jobs.empty()) return;
  const int64_t R = rows_of(jobs[0].x);
  bool same_rows = true;
  for (const LinearJob& j : jobs) {
    check_linear(j.x, j.W, j.bias, j.out);
    same_rows = same_rows && rows_of(j.x) == R;
  }
  if (impl() == Impl::Reference || R > kGemvMaxRows || R == 0 || !same_rows) {
    for (const LinearJob& j : jobs) linear(j.x, j.W, j.bias, j.out, p);
    return;
  }
  fast::gemv_jobs(jobs, R);
  for (const LinearJob& j : jobs) add_bias(j.bias, R, j.W.dim(0), j.out.data<float>());
}

}  // namespace gander::ops
