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
  GANDER_CHECK(W.layout() == Layout::RowMajor || W.dtype() != DType::F16, "linear: tiles hold bf16 or f32 only, got ",
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

void check_job(const LinearJob& j) {
  check_linear(j.x, j.W, j.bias, j.out);
  GANDER_CHECK(!(j.act && j.accumulate), "linear: an activation and accumulation into the output do not combine");
  GANDER_CHECK(!j.mix_to == !j.mix, "linear: a token-shift mix needs both the shifted input and the mix");
  if (j.mix_to) {
    require_f32(*j.mix_to, "linear", "mix_to");
    require_same_shape(j.x, *j.mix_to, "linear");
    require_f32(*j.mix, "linear", "mix");
    require_numel(*j.mix, j.x.dim(-1), "linear", "mix");
  }
}

detail::Epilogue epilogue_of(const LinearJob& j) {
  return {j.bias ? j.bias->data<float>() : nullptr, j.act, j.accumulate};
}
detail::InputRows input_of(const LinearJob& j) {
  return {j.x.data<float>(), j.mix_to ? j.mix_to->data<float>() : nullptr, j.mix ? j.mix->data<float>() : nullptr,
          rows_of(j.x)};
}

// Row r of a job's input (the mix computed as ops::lerp does).
void input_row(const detail::InputRows& in, int64_t r, int64_t K, float* dst) {
  const float* a = in.x + r * K;
  if (!in.to) {
    std::copy(a, a + K, dst);
    return;
  }
  const float* b = in.to + r * K;
#pragma omp simd
  for (int64_t k = 0; k < K; ++k) dst[k] = a[k] + (b[k] - a[k]) * in.mix[k];
}
}  // namespace

namespace detail {
void finish_rows(const Epilogue& e, const float* v, int64_t ldv, float* y, int64_t ldy, int64_t rows, int64_t n0,
                 int64_t n1) {
  const bool simd = e.act && cpu_has_avx512();
  for (int64_t r = 0; r < rows; ++r) {
    const float* vr = v + r * ldv;
    float* yr = y + r * ldy;
    if (e.accumulate) {
      if (e.bias) {
#pragma omp simd
        for (int64_t n = n0; n < n1; ++n) yr[n] += vr[n] + e.bias[n];
      } else {
#pragma omp simd
        for (int64_t n = n0; n < n1; ++n) yr[n] += vr[n];
      }
      continue;
    }
    if (e.bias) {
#pragma omp simd
      for (int64_t n = n0; n < n1; ++n) yr[n] = vr[n] + e.bias[n];
    } else if (vr != yr) {
      std::copy(vr + n0, vr + n1, yr + n0);
    }
    if (!e.act) continue;
    if (simd) {
      activation_avx512(*e.act, yr + n0, yr + n0, n1 - n0);
    } else {
      for (int64_t n = n0; n < n1; ++n) yr[n] = act_scalar(*e.act, yr[n]);
    }
  }
}
}  // namespace detail

namespace ref {
void linear(const LinearJob& j) {
  check_job(j);
  const int64_t N = j.W.dim(0), K = j.W.dim(1), R = rows_of(j.x);
  const detail::InputRows in = input_of(j);
  std::vector<float> row(static_cast<size_t>(K));
  float* py = j.out.data<float>();
  for (int64_t r = 0; r < R; ++r) {
    input_row(in, r, K, row.data());
    for (int64_t n = 0; n < N; ++n) {
      double acc = j.bias ? j.bias->data<float>()[n] : 0.0;
      for (int64_t k = 0; k < K; ++k) acc += double(row[size_t(k)]) * matrix_at(j.W, n, k);
      const float v = float(acc);
      float& y = py[r * N + n];
      y = j.accumulate ? y + v : j.act ? act_scalar(*j.act, v) : v;
    }
  }
}
void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out) { ref::linear(LinearJob{x, W, bias, out}); }
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
// waited for the slower one. Each chunk applies its job's epilogue to the outputs it computed.
void gemv_jobs(std::span<const LinearJob> jobs, int64_t R) {
  constexpr int64_t kChunkRows = 128, kChunkBytes = int64_t(192) << 10;
  struct Chunk {
    size_t job;
    int64_t n0, n1;
  };
  std::vector<Chunk> chunks;
  // Mixed inputs are a few rows: computed up front. Accumulating jobs need the product apart
  // from the output it is added to.
  std::vector<std::vector<float>> inputs(jobs.size()), products(jobs.size());
  int64_t total = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const LinearJob& j = jobs[i];
    const int64_t N = j.W.dim(0), K = j.W.dim(1), row_bytes = K * int64_t(dtype_size(j.W.dtype()));
    const int64_t rows = std::max<int64_t>(1, (kChunkBytes / row_bytes + kChunkRows - 1) / kChunkRows) * kChunkRows;
    for (int64_t n0 = 0; n0 < N; n0 += rows) chunks.push_back({i, n0, std::min(N, n0 + rows)});
    total += N * row_bytes;
    if (j.mix_to) {
      inputs[i].resize(size_t(R * K));
      const detail::InputRows in = input_of(j);
      for (int64_t r = 0; r < R; ++r) input_row(in, r, K, inputs[i].data() + r * K);
    }
    if (j.accumulate) products[i].resize(size_t(R * N));
  }
  const bool avx512 = cpu_has_avx512();
  auto run = [&](size_t i, int64_t n0, int64_t n1) {
    const LinearJob& j = jobs[i];
    const int64_t N = j.W.dim(0), K = j.W.dim(1);
    const float* x = j.mix_to ? inputs[i].data() : j.x.data<float>();
    float* y = j.out.data<float>();
    float* v = j.accumulate ? products[i].data() : y;
    for (int64_t r0 = 0; r0 < R; r0 += kGemvKernelRows) {  // later groups find the chunk in L2
      const int64_t g = std::min(kGemvKernelRows, R - r0);
      const float* xg = x + r0 * K;
      float* vg = v + r0 * N;
      if (j.W.layout() == Layout::Tiles && j.W.dtype() == DType::F32) {
        const auto* t = static_cast<const float*>(j.W.storage());
        (avx512 ? detail::gemv_tiles_f32_avx512 : detail::gemv_tiles_f32_portable)(xg, g, t, K, n0, n1, vg, N);
      } else if (j.W.layout() == Layout::Tiles) {
        const auto* t = static_cast<const uint16_t*>(j.W.storage());
        (avx512 ? detail::gemv_tiles_avx512 : detail::gemv_tiles_portable)(xg, g, t, K, n0, n1, vg, N);
      } else {
        (avx512 ? detail::gemv_avx512 : detail::gemv_portable)(xg, g, j.W.raw(), j.W.dtype(), K, n0, n1, vg, N);
      }
    }
    const detail::Epilogue e = epilogue_of(j);
    if (!e.trivial()) detail::finish_rows(e, v, N, y, N, R, n0, n1);
  };
#pragma omp parallel for schedule(dynamic, 1) if (total >= kParallelGemvBytes)
  for (size_t c = 0; c < chunks.size(); ++c) run(chunks[c].job, chunks[c].n0, chunks[c].n1);
}

// f32 arithmetic on weights oneDNN cannot read as they are (bf16/f16, or tiles on a CPU without
// the tiled kernels): widen a block of W rows (exact) and run the f32 GEMM on it.
void gemm_widened(const float* x, const Tensor& W, int64_t M, float* y) {
  const int64_t N = W.dim(0), K = W.dim(1);
  const int64_t block = std::max<int64_t>(64, (int64_t(1) << 20) / std::max<int64_t>(K, 1));  // ~4 MB of f32
  std::vector<float> wide(static_cast<size_t>(std::min(block, N) * K));
  for (int64_t n0 = 0; n0 < N; n0 += block) {
    const int64_t nb = std::min(block, N - n0);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < nb; ++i) matrix_rows(W, n0 + i, 1, wide.data() + i * K);
    detail::gemm_f32(x, wide.data(), M, nb, K, y + n0, N);
  }
}

// The library GEMMs take plain inputs and write plain outputs: the fusions run as passes around them.
void gemm_unfused(const LinearJob& j, Precision p) {
  const int64_t N = j.W.dim(0), K = j.W.dim(1), R = rows_of(j.x);
  thread_local std::vector<float> mixed, product;
  const float* x = j.x.data<float>();
  if (j.mix_to) {
    mixed.resize(size_t(R * K));
    float* dst = mixed.data();  // (inside the region, `mixed` would name each thread's own)
    const detail::InputRows in = input_of(j);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < R; ++r) input_row(in, r, K, dst + r * K);
    x = dst;
  }
  float* y = j.out.data<float>();
  float* v = y;
  if (j.accumulate) {
    product.resize(size_t(R * N));
    v = product.data();
  }
  if (j.W.dtype() == DType::F32 && j.W.layout() == Layout::RowMajor) {
    detail::gemm_f32(x, j.W.data<float>(), R, N, K, v, N);
  } else if (p == Precision::BF16 && j.W.layout() == Layout::RowMajor && j.W.dtype() == DType::BF16) {
    detail::gemm_bf16(x, j.W.data_u16(), R, N, K, v);
  } else {
    gemm_widened(x, j.W, R, v);
  }
  const detail::Epilogue e = epilogue_of(j);
  if (e.trivial()) return;
  constexpr int64_t kRows = 16;
#pragma omp parallel for schedule(static) if (R * N > 65536)
  for (int64_t r0 = 0; r0 < R; r0 += kRows)
    detail::finish_rows(e, v + r0 * N, N, y + r0 * N, N, std::min(kRows, R - r0), 0, N);
}
}  // namespace

void linear(const LinearJob& j, Precision p) {
  check_job(j);
  const int64_t R = rows_of(j.x);
  if (R == 0) return;
  if (R <= kGemvMaxRows) {
    gemv_jobs({&j, 1}, R);
  } else if (j.W.layout() == Layout::Tiles && j.W.dtype() == DType::F32 && cpu_has_avx512()) {
    detail::gemm_tiles_f32_avx512(input_of(j), static_cast<const float*>(j.W.storage()), j.W.dim(0), j.W.dim(1),
                                  j.out.data<float>(), epilogue_of(j));
  } else if (p == Precision::BF16 && j.W.layout() == Layout::Tiles && j.W.dtype() == DType::BF16 &&
             cpu_has_amx_bf16()) {
    detail::gemm_tiles_amx(input_of(j), static_cast<const uint16_t*>(j.W.storage()), j.W.dim(0), j.W.dim(1),
                           j.out.data<float>(), epilogue_of(j));
  } else {
    gemm_unfused(j, p);
  }
}
void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, Precision p) {
  fast::linear(LinearJob{x, W, bias, out}, p);
}
}  // namespace fast

void linear(const LinearJob& job, Precision p) {
  impl() == Impl::Reference ? ref::linear(job) : fast::linear(job, p);
}
void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, Precision p) {
  linear(LinearJob{x, W, bias, out}, p);
}

void linear_group(std::span<const LinearJob> jobs, Precision p) {
  if (jobs.empty()) return;
  const int64_t R = rows_of(jobs[0].x);
  bool same_rows = true;
  for (const LinearJob& j : jobs) {
    check_job(j);
    same_rows = same_rows && rows_of(j.x) == R;
  }
  if (impl() == Impl::Reference || R > kGemvMaxRows || R == 0 || !same_rows) {
    for (const LinearJob& j : jobs) linear(j, p);
    return;
  }
  fast::gemv_jobs(jobs, R);
}

}  // namespace gander::ops
