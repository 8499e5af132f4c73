#include "ops/matmul.h"

#include <dnnl.hpp>

#include "ops/checks.h"
#include "ops/impl.h"

namespace gander::ops {

namespace {
struct Dims {
  int64_t M, N, K;
};

Dims check(const Tensor& A, bool ta, const Tensor& B, bool tb, const Tensor& C) {
  GANDER_CHECK(A.dtype() == B.dtype() && A.dtype() == C.dtype() && (A.dtype() == DType::F32 || A.dtype() == DType::F64),
               "matmul: A, B and C must all be f32 or all f64, got ", A.describe(), ", ", B.describe(), ", ",
               C.describe());
  const int64_t ar = rows_of(A), ac = A.dim(-1), br = rows_of(B), bc = B.dim(-1);
  const Dims d{ta ? ac : ar, tb ? br : bc, ta ? ar : ac};
  GANDER_CHECK((tb ? bc : br) == d.K, "matmul: inner sizes differ: ", A.describe(), ta ? "^T" : "", " . ",
               B.describe(), tb ? "^T" : "");
  GANDER_CHECK(rows_of(C) == d.M && C.dim(-1) == d.N, "matmul: result ", C.describe(), " is not [", d.M, ", ", d.N, "]");
  return d;
}

template <class S>
void matmul_loop(const S* a, bool ta, const S* b, bool tb, S* c, Dims d, bool acc) {
  const int64_t lda = ta ? d.M : d.K, ldb = tb ? d.K : d.N;
#pragma omp parallel for schedule(static) if (d.M * d.N * d.K > (1 << 16))
  for (int64_t m = 0; m < d.M; ++m)
    for (int64_t n = 0; n < d.N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < d.K; ++k)
        s += double(ta ? a[k * lda + m] : a[m * lda + k]) * double(tb ? b[n * ldb + k] : b[k * ldb + n]);
      c[m * d.N + n] = S(acc ? double(c[m * d.N + n]) + s : s);
    }
}
void require_bf16_operands(const Tensor& A, Precision p) {
  GANDER_CHECK(p == Precision::F32 || A.dtype() == DType::F32, "matmul: bf16 products take f32 operands, got ",
               A.describe());
}

// A tensor's values rounded to bf16 and widened back (the reference's view of a bf16 operand).
Tensor rounded_to_bf16(const Tensor& t) { return t.to(DType::BF16).to(DType::F32); }

void matmul_bf16(const Tensor& A, bool ta, const Tensor& B, bool tb, Tensor& C, bool acc, Dims d) {
  thread_local detail::Bf16Scratch a16, b16;
  uint16_t *pa = a16.get(size_t(A.numel())), *pb = b16.get(size_t(B.numel()));
  detail::f32_to_bf16(A.data<float>(), pa, A.numel());
  detail::f32_to_bf16(B.data<float>(), pb, B.numel());
  detail::gemm_bf16_bits(pa, ta, pb, tb, d.M, d.N, d.K, C.data<float>(), acc);
}
}  // namespace

namespace ref {
void matmul(const Tensor& A, bool ta, const Tensor& B, bool tb, Tensor& C, bool acc, Precision p) {
  const Dims d = check(A, ta, B, tb, C);
  require_bf16_operands(A, p);
  if (p == Precision::BF16) {
    const Tensor a = rounded_to_bf16(A), b = rounded_to_bf16(B);
    return matmul_loop(a.data<float>(), ta, b.data<float>(), tb, C.data<float>(), d, acc);
  }
  if (A.dtype() == DType::F64) return matmul_loop(A.data<double>(), ta, B.data<double>(), tb, C.data<double>(), d, acc);
  matmul_loop(A.data<float>(), ta, B.data<float>(), tb, C.data<float>(), d, acc);
}
}  // namespace ref

namespace fast {
void matmul(const Tensor& A, bool ta, const Tensor& B, bool tb, Tensor& C, bool acc, Precision p) {
  const Dims d = check(A, ta, B, tb, C);
  require_bf16_operands(A, p);
  if (A.dtype() == DType::F64) return ref::matmul(A, ta, B, tb, C, acc);
  if (d.M == 0 || d.N == 0) return;
  if (d.K == 0) {
    if (!acc) C.fill_zero();
    return;
  }
  if (p == Precision::BF16) return matmul_bf16(A, ta, B, tb, C, acc, d);
  const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', d.M, d.N, d.K, 1.0f, A.data<float>(),
                                      ta ? d.M : d.K, B.data<float>(), tb ? d.K : d.N, acc ? 1.0f : 0.0f,
                                      C.data<float>(), d.N);
  GANDER_CHECK(st == dnnl_success, "oneDNN sgemm failed (status ", int(st), ") for M=", d.M, " N=", d.N, " K=", d.K);
}
}  // namespace fast

void matmul(const Tensor& A, bool ta, const Tensor& B, bool tb, Tensor& C, bool acc, Precision p) {
  if (impl() == Impl::Reference) return ref::matmul(A, ta, B, tb, C, acc, p);
  fast::matmul(A, ta, B, tb, C, acc, p);
}

}  // namespace gander::ops
