// Matrix products through oneDNN: its sgemm for f32, and a matmul primitive for bf16 (oneDNN
// picks AMX or AVX512-BF16 kernels on CPUs that have them), shared by inference (ops::linear) and
// training (ops::matmul). oneDNN caches primitives, so re-creating one for a shape seen before
// is cheap.
#include <algorithm>
#include <dnnl.hpp>

#include "core/cpu.h"
#include "core/error.h"
#include "ops/linear.h"

namespace gander::ops::detail {

void gemm_f32(const float* x, const float* W, int64_t M, int64_t N, int64_t K, float* y, int64_t ldc) {
  dnnl_status_t st = dnnl_sgemm('N', 'T', M, N, K, 1.0f, x, K, W, K, 0.0f, y, ldc);
  GANDER_CHECK(st == dnnl_success, "oneDNN sgemm failed (status ", int(st), ") for M=", M, " N=", N, " K=", K);
}

void f32_to_bf16(const float* x, uint16_t* y, int64_t n) {
  constexpr int64_t kChunk = 1 << 14;
  const bool fast_cvt = cpu_has_avx512_bf16();
#pragma omp parallel for schedule(static) if (n > kChunk)
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    if (fast_cvt) f32_to_bf16_avx512(x + i, y + i, m);
    else convert_from_f32(DType::BF16, x + i, y + i, size_t(m));
  }
}

uint16_t* Bf16Scratch::get(size_t n) {
  if (n > size_) data_.reset(new uint16_t[n]), size_ = n;
  return data_.get();
}

void gemm_bf16_bits(const uint16_t* a, bool ta, const uint16_t* b, bool tb, int64_t M, int64_t N, int64_t K, float* c,
                    bool accumulate) {
  using dnnl::memory;
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  thread_local dnnl::stream stream(engine);
  // A transposed is A stored [K, M]: the {M, K} matrix in column-major ("ba") order; B likewise.
  memory::desc a_md({M, K}, memory::data_type::bf16, ta ? memory::format_tag::ba : memory::format_tag::ab);
  memory::desc b_md({K, N}, memory::data_type::bf16, tb ? memory::format_tag::ba : memory::format_tag::ab);
  memory::desc c_md({M, N}, memory::data_type::f32, memory::format_tag::ab);
  try {
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, engine);
    memory am(a_md, engine, const_cast<uint16_t*>(a)), bm(b_md, engine, const_cast<uint16_t*>(b));
    memory cm(c_md, engine, c);
    dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    stream.wait();
  } catch (const dnnl::error& e) {
    fail("oneDNN bf16 matmul failed for M=", M, " N=", N, " K=", K, ": ", e.what());
  }
}

void gemm_bf16(const float* x, const uint16_t* W, int64_t M, int64_t N, int64_t K, float* y) {
  thread_local Bf16Scratch xb;
  uint16_t* px = xb.get(size_t(M * K));
  f32_to_bf16(x, px, M * K);
  gemm_bf16_bits(px, false, W, /*W is [N, K] row-major*/ true, M, N, K, y, false);
}

}  // namespace gander::ops::detail
