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
}  // namespace

namespace ref {
void matmul(const Tensor& A, bool ta, const Tensor& B, bool tb, Tensor& C, bool acc) {
  const Dims d = check(A, ta, B, tb, C);
  if (A.dtype() == DType::F64) return matmul_loop(A.data<double>(), ta, B.data<double>(), tb, C.data<double>(), d, acc);
  matmul_loop(A.data<float>(), ta, B.data<float>(), tb, C.data<float>(), d, acc);
}
}  // namespace ref

namespace fast {
void matmul(const Tensor& A, bool ta, const Tensor& B, bool tb, Tensor& C, bool acc) {
  const Dims d = check(A, ta, B, tb, C);
  if (A.dtype() == DType::F64) return ref::matmul(A, ta, B, tb, C, acc);
  if (d.M == 0 || d.N == 0) return;
  if (d.K == 0) {
    if (!acc) C.fill_zero();
    return;
  }
  const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', d.M, d.N, d.K, 1.0f, A.data<float>(),
                                      ta ? d.M : d.K, B.data<float>(), tb ? d.K : d.N, acc ? 1.0f : 0.0f,
                                      C.data<float>(), d.N);
  GANDER_CHECK(st == dnnl_success, "oneDNN sgemm failed (status ", int(st), ") for M=", d.M, " N=", d.N, " K=", d.K);
}
}  // namespace fast

void matmul(const Tensor& A, bool ta, const Tensor& B, bool tb, Tensor& C, bool acc) {
  if (impl() == Impl::Reference) return ref::matmul(A, ta, B, tb, C, acc);
  fast::matmul(A, ta, B, tb, C, acc);
}

}  // namespace gander::ops
