// RAD-RWKV6's GLA recurrence: its fast forward (on the WKV7 kernels) against the plain loop in
// GLA's own layout, and its backward (checkpointed, with the initial state's gradient) against
// double-precision finite differences of that loop.
#include <gtest/gtest.h>

#include "grad_check.h"
#include "ops/gla.h"

namespace gander::test {
namespace {

// S[key][value] per head, from the initial state held [value][key]; the loss contracts every
// output and the final state with probes.
double gla_loss(const Values& in, int64_t T, int64_t H, int64_t N, const std::vector<double>& probe_y,
                const std::vector<double>& probe_s) {
  const int64_t C = H * N;
  double s = 0;
  for (int64_t h = 0; h < H; ++h) {
    std::vector<double> S(size_t(N * N));
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < N; ++j) S[size_t(i * N + j)] = in[4][size_t(h * N * N + j * N + i)];
    for (int64_t t = 0; t < T; ++t) {
      const int64_t o = t * C + h * N;
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < N; ++j)
          S[size_t(i * N + j)] = in[1][size_t(o + i)] * S[size_t(i * N + j)] + in[2][size_t(o + i)] * in[3][size_t(o + j)];
      for (int64_t j = 0; j < N; ++j) {
        double y = 0;
        for (int64_t i = 0; i < N; ++i) y += in[0][size_t(o + i)] * S[size_t(i * N + j)];
        s += y * probe_y[size_t(o + j)];
      }
    }
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < N; ++j) s += S[size_t(i * N + j)] * probe_s[size_t(h * N * N + j * N + i)];
  }
  return s;
}

TEST(Grad, GlaRecurrenceWithCheckpointsAndInitialState) {
  Rng rng(31);
  for (auto [T, H, N] : {std::tuple{1, 1, 16}, {19, 2, 16}, {37, 1, 32}, {33, 1, 128}}) {
    const int64_t C = H * N;
    // Decays as RAD-RWKV6 makes them: exp(max(-exp(d), -5)), so down to e^-5.
    const Values x{random_values(rng, T * C, 0.5), uniform_values(rng, T * C, 0.0067, 0.999),
                   random_values(rng, T * C, 0.3), random_values(rng, T * C), random_values(rng, H * N * N, 0.2)};
    const auto probe_y = random_values(rng, T * C), probe_s = random_values(rng, H * N * N);
    const Tensor r = tensor_of(x[0], {T, C}), w = tensor_of(x[1], {T, C}), k = tensor_of(x[2], {T, C}),
                 v = tensor_of(x[3], {T, C}), S0 = tensor_of(x[4], {H, N, N});
    const ops::GlaArgs args{r, w, k, v};

    Tensor s_fast = S0.clone(), s_ref = S0.clone(), y_fast = zeros({T, C}), y_ref = zeros({T, C});
    ops::gla(args, s_fast, y_fast);
    ops::ref::gla(args, s_ref, y_ref);
    EXPECT_LE(rel_diff(y_fast, y_ref) + rel_diff(s_fast, s_ref), 1e-5) << "T" << T << " N" << N;

    Tensor state = S0.clone(), y = zeros({T, C}), ck = Tensor::empty(DType::F32, {(T + 15) / 16, H, N, N});
    ops::gla_forward_checkpointed(args, state, y, ck);
    EXPECT_LE(rel_diff(y, y_ref), 1e-5);
    Tensor gr = zeros({T, C}), gw = zeros({T, C}), gk = zeros({T, C}), gv = zeros({T, C});
    Tensor dS = tensor_of(probe_s, {H, N, N});
    ops::gla_backward(args, ck, tensor_of(probe_y, {T, C}), {gr, gw, gk, gv}, dS);
    auto loss = [&](const Values& in) { return gla_loss(in, T, H, N, probe_y, probe_s); };
    const FdResult fd = fd_check(x, loss, {values_of(gr), values_of(gw), values_of(gk), values_of(gv), values_of(dS)}, rng);
    EXPECT_LE(fd.worst, 1e-4) << "T" << T << " H" << H << " N" << N << ": " << fd.where;  // f32 backward
  }
}

TEST(Grad, GlaRefusesAStateOfAnotherSize) {
  const Tensor r = zeros({3, 32});
  Tensor y = zeros({3, 32}), s = zeros({1, 16, 16});
  EXPECT_THROW(ops::gla({r, r, r, r}, s, y), Error);
}

}  // namespace
}  // namespace gander::test
