// The attention backward (row-by-row recomputation from log-sum-exp), RoPE's and repeated
// heads' backward, against double-precision finite differences (tests/grad_check.h).
#include <gtest/gtest.h>

#include "grad_check.h"
#include "ops/attention_backward.h"
#include "ops/repeat_heads.h"
#include "ops/rope.h"

namespace gander::test {
namespace {

// Causal attention with grouped KV heads: the row-by-row recomputation against double
// differences and against the reference that keeps the whole probability matrix.
TEST(Grad, CausalGroupedAttention) {
  Rng rng(9);
  for (auto [T, Hq, Hkv, D] : {std::tuple{1, 1, 1, 4}, {7, 4, 2, 8}, {19, 3, 1, 16}, {33, 2, 2, 32}, {150, 2, 1, 16}}) {
    const Values x{random_values(rng, T * Hq * D), random_values(rng, T * Hkv * D), random_values(rng, T * Hkv * D)};
    const auto probe = random_values(rng, T * Hq * D);
    const int64_t group = Hq / Hkv;
    auto loss = [&](const Values& in) {
      double s = 0;
      for (int64_t h = 0; h < Hq; ++h)
        for (int64_t t = 0; t < T; ++t) {
          std::vector<double> p(static_cast<size_t>(t + 1));
          double m = -INFINITY, sum = 0;
          for (int64_t j = 0; j <= t; ++j) {
            double d = 0;
            for (int64_t i = 0; i < D; ++i) d += in[0][size_t((t * Hq + h) * D + i)] * in[1][size_t((j * Hkv + h / group) * D + i)];
            m = std::max(m, p[size_t(j)] = d / std::sqrt(double(D)));
          }
          for (double& q : p) sum += (q = std::exp(q - m));
          for (int64_t i = 0; i < D; ++i) {
            double o = 0;
            for (int64_t j = 0; j <= t; ++j) o += p[size_t(j)] / sum * in[2][size_t((j * Hkv + h / group) * D + i)];
            s += o * probe[size_t((t * Hq + h) * D + i)];
          }
        }
      return s;
    };
    Tensor Q = tensor_of(x[0], {T, Hq, D}), K = tensor_of(x[1], {T, Hkv, D}), V = tensor_of(x[2], {T, Hkv, D});
    Tensor P = tensor_of(probe, {T, Hq, D}), out = zeros({T, Hq, D}), lse = zeros({T, Hq});
    ops::attention_train(Q, K, V, out, lse);
    const double forward = dot(values_of(out), probe), want = loss(x);  // the outputs themselves
    EXPECT_NEAR(forward, want, 1e-5 * std::max(1.0, std::fabs(want))) << "T" << T;
    Tensor gq = zeros({T, Hq, D}), gk = zeros({T, Hkv, D}), gv = zeros({T, Hkv, D});
    Tensor rq = zeros({T, Hq, D}), rk = zeros({T, Hkv, D}), rv = zeros({T, Hkv, D});
    ops::attention_backward(Q, K, V, out, lse, P, gq, gk, gv);
    ops::ref::attention_backward(Q, K, V, P, rq, rk, rv);
    const FdResult fd = fd_check(x, loss, {values_of(gq), values_of(gk), values_of(gv)}, rng);
    EXPECT_LE(fd.worst, kFdTol) << "T" << T << " heads " << Hq << "/" << Hkv << ": " << fd.where;
    EXPECT_LE(rel_diff(gq, rq) + rel_diff(gk, rk) + rel_diff(gv, rv), kFastTol);
  }
}

TEST(Grad, RopeAndRepeatedHeads) {
  Rng rng(10);
  const int64_t T = 5, H = 3, D = 8;
  const std::vector<int64_t> pos = {0, 1, 2, 7, 300};
  const Values x{random_values(rng, T * H * D)};
  const auto probe = random_values(rng, T * H * D);
  auto loss = [&](const Values& in) {  // the rotation of ops/rope.h in double (f32 angles, as HF)
    double s = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < D / 2; ++i) {
          const float a = float(pos[size_t(t)]) * (1.0f / std::pow(1e4f, float(2 * i) / float(D)));
          const double c = std::cos(a), sn = std::sin(a), x1 = in[0][size_t((t * H + h) * D + i)],
                       x2 = in[0][size_t((t * H + h) * D + i + D / 2)];
          s += (x1 * c - x2 * sn) * probe[size_t((t * H + h) * D + i)] + (x2 * c + x1 * sn) * probe[size_t((t * H + h) * D + i + D / 2)];
        }
    return s;
  };
  Tensor dx = zeros({T, H, D});
  ops::rope_backward(tensor_of(probe, {T, H, D}), pos, 1e4, dx);
  const FdResult fd = fd_check(x, loss, {values_of(dx)}, rng);
  EXPECT_LE(fd.worst, 1e-4) << fd.where;  // (cos/sin of f32 angles in f32 inside rope)
  // repeat_heads: each KV head's gradient is the sum over the query heads it serves.
  Tensor kv = random_tensor_like(rng, {4, 2 * 8}), rep = zeros({4, 6 * 8}), dkv = zeros({4, 2 * 8});
  Tensor probe2 = tensor_of(random_values(rng, 4 * 6 * 8), {4, 6 * 8});
  ops::repeat_heads(kv, 3, 8, rep);
  ops::repeat_heads_backward(probe2, 3, 8, dkv);
  const auto p2 = probe2.to_f32_vector(), g = dkv.to_f32_vector();
  for (int64_t t = 0; t < 4; ++t)
    for (int64_t i = 0; i < 16; ++i) {
      double want = 0;
      for (int r = 0; r < 3; ++r) want += p2[size_t(t * 48 + ((i / 8) * 3 + r) * 8 + i % 8)];
      EXPECT_NEAR(g[size_t(t * 16 + i)], want, 1e-6);
    }
}

}  // namespace
}  // namespace gander::test
