// Linear layer: out[r, n] = sum_k x[r, k] * W[n, k] (+ bias[n]), W in PyTorch's [out, in] layout.
// x and out are f32; W is f32, bf16 or f16. This one op serves both the matrix-vector products of
// decoding (few rows: a hand-written kernel that streams W once, bound by memory bandwidth) and the
// matrix products of prefill and training (many rows: oneDNN or our AMX kernel, bound by arithmetic).
//
// A product can also take over the element-wise work on each side of it (a token-shift mix of its
// input, an activation or a residual add of its output): in prefill each of those is otherwise a
// pass over a [T, C] activation that no longer fits the caches, while the product's kernel has
// the data in registers anyway. Every path gives the result of the separate ops.
#pragma once
#include <memory>
#include <optional>
#include <span>

#include "core/tensor.h"
#include "ops/elementwise.h"

namespace gander::ops {

enum class Precision {
  F32,   // f32 arithmetic whatever W's storage type (bf16/f16 widen exactly): matches the f32 goldens
  BF16,  // bf16 weights: x is rounded to bf16 and multiplied on the bf16 units (AMX), f32 accumulation
};
const char* precision_name(Precision p);

// Row counts up to this go to the matrix-vector kernels: one token, or one token of each of a
// batch of sequences. The kernels take up to kGemvKernelRows rows at once; more rows run in
// groups over each ~192 KB chunk of weights, which the later groups read from L2, so memory
// sees the weights once. Each row's sums are the same whatever the row count: a batched step
// gives every sequence exactly its single-sequence result.
inline constexpr int64_t kGemvMaxRows = 16;
inline constexpr int64_t kGemvKernelRows = 4;

void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, Precision p = Precision::F32);

// One product with its fusions:
//   in[r]  = mix_to ? x[r] + (mix_to[r] - x[r]) * mix : x[r]     (ops::lerp, mix broadcast over rows)
//   v[r]   = in[r] . W^T + bias
//   out[r] = accumulate ? out[r] + v[r] : act ? act(v[r]) : v[r]
struct LinearJob {
  const Tensor& x;
  const Tensor& W;
  const Tensor* bias;
  Tensor& out;
  std::optional<Act> act = {};
  bool accumulate = false;  // out += product (a residual stream); not with act
  const Tensor* mix_to = nullptr;
  const Tensor* mix = nullptr;  // [K]
};
void linear(const LinearJob& job, Precision p = Precision::F32);

// Several independent products with the same row count, run as one job: when decoding, one
// parallel region streams all of their weights (split evenly by bytes across threads) instead of
// waking the threads once per small matrix.
void linear_group(std::span<const LinearJob> jobs, Precision p = Precision::F32);

namespace ref {
void linear(const LinearJob& job);
void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out);
}  // namespace ref
namespace fast {
void linear(const LinearJob& job, Precision p = Precision::F32);
void linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, Precision p = Precision::F32);
}  // namespace fast

namespace detail {
// The output side of a LinearJob, for the kernels that apply it where the product is computed.
struct Epilogue {
  const float* bias = nullptr;
  std::optional<Act> act = {};
  bool accumulate = false;
  bool trivial() const { return !bias && !act && !accumulate; }
};
// y[r, n0..n1) = epilogue(v[r, n0..n1)) for r < rows (v has row stride ldv, y ldy; v may be y).
void finish_rows(const Epilogue& e, const float* v, int64_t ldv, float* y, int64_t ldy, int64_t rows, int64_t n0,
                 int64_t n1);
// The input side: rows of x, or of the token-shift mix lerp(x, to, mix) when `to` is set.
struct InputRows {
  const float* x;
  const float* to = nullptr;
  const float* mix = nullptr;
  int64_t rows = 0;
};

// y[r, n] = x[r, :] . W[n, :] for n in [n_begin, n_end), r < rows <= kGemvKernelRows; y has row stride N.
using GemvFn = void (*)(const float* x, int64_t rows, const void* W, DType wt, int64_t K, int64_t n_begin,
                        int64_t n_end, float* y, int64_t N);
void gemv_portable(const float* x, int64_t rows, const void* W, DType wt, int64_t K, int64_t n_begin, int64_t n_end,
                   float* y, int64_t N);
void gemv_avx512(const float* x, int64_t rows, const void* W, DType wt, int64_t K, int64_t n_begin, int64_t n_end,
                 float* y, int64_t N);
// oneDNN-backed products. y[M, N] = x[M, K] . W[N, K]^T (row-major, ldc = N).
void gemm_f32(const float* x, const float* W, int64_t M, int64_t N, int64_t K, float* y, int64_t ldc);
// Rounds n floats to bf16 (nearest even) with the AVX512-BF16 instruction (inputs below the
// smallest normal count as zero, as the bf16 units do anyway).
void f32_to_bf16_avx512(const float* x, uint16_t* y, int64_t n);
// Same with W in bf16 and x rounded to bf16 (AMX/AVX512-BF16 when the CPU has them).
void gemm_bf16(const float* x, const uint16_t* W, int64_t M, int64_t N, int64_t K, float* y);
// The general bf16 product: C[M, N] (+)= op(A) . op(B), A [M, K] (or [K, M] when ta), B [K, N] (or
// [N, K] when tb), both as bf16 bits, f32 accumulation.
void gemm_bf16_bits(const uint16_t* a, bool ta, const uint16_t* b, bool tb, int64_t M, int64_t N, int64_t K, float* c,
                    bool accumulate);
// n floats rounded to bf16 (nearest even), threaded, on the AVX512-BF16 instruction where there is one.
void f32_to_bf16(const float* x, uint16_t* y, int64_t n);
// A per-thread scratch for bf16 copies: grows, never cleared (a vector would zero what it adds).
class Bf16Scratch {
 public:
  uint16_t* get(size_t n);

 private:
  std::unique_ptr<uint16_t[]> data_;
  size_t size_ = 0;
};
}  // namespace detail

}  // namespace gander::ops
