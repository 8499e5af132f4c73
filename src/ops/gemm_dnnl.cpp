// Matrix products through oneDNN: its sgemm for f32, and a matmul primitive for bf16 (oneDNN
// picks AMX or AVX512-BF16 kernels on CPUs that have them). oneDNN caches primitives, so
// re-creating one for a shape seen before is cheap.
#include <dnnl.hpp>
#include <vector>

#include "core/cpu.h"
#include "core/error.h"
#include "ops/linear.h"

namespace gander::ops::detail {

void gemm_f32(const float* x, const float* W, int64_t M, int64_t N, int64_t K, float* y, int64_t ldc) {
  dnnl_status_t st = dnnl_sgemm('N', 'T', M, N, K, 1.0f, x, K, W, K, 0.0f, y, ldc);
  GANDER_CHECK(st == dnnl_success, "oneDNN sgemm failed (status ", int(st), ") for M=", M, " N=", N, " K=", K);
}

void gemm_bf16(const float* x, const uint16_t* W, int64_t M, int64_t N, int64_t K, float* y) {
  using dnnl::memory;
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  thread_local dnnl::stream stream(engine);
  std::vector<uint16_t> xb(static_cast<size_t>(M * K));
  const bool fast_cvt = cpu_has_avx512_bf16();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < M; ++r) {
    if (fast_cvt) f32_to_bf16_avx512(x + r * K, xb.data() + r * K, K);
    else convert_from_f32(DType::BF16, x + r * K, xb.data() + r * K, size_t(K));
  }
  memory::desc src_md({M, K}, memory::data_type::bf16, memory::format_tag::ab);
  memory::desc wei_md({K, N}, memory::data_type::bf16, memory::format_tag::ba);  // W is [N, K] row-major
  memory::desc dst_md({M, N}, memory::data_type::f32, memory::format_tag::ab);
  try {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_md, dst_md), engine);
    memory src(src_md, engine, xb.data());
    memory wei(wei_md, engine, const_cast<uint16_t*>(W));
    memory dst(dst_md, engine, y);
    dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    stream.wait();
  } catch (const dnnl::error& e) {
    fail("oneDNN bf16 matmul failed for M=", M, " N=", N, " K=", K, ": ", e.what());
  }
}

}  // namespace gander::ops::detail
