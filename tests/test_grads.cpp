// Every backward op against central finite differences of its forward in double precision
// (tests/grad_check.h), and its fast f32 implementation against its double-precision reference,
// on odd shapes.
#include <gtest/gtest.h>

#include "grad_check.h"
#include "ops/backward.h"
#include "ops/grad_kernels.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/wkv7_backward.h"

namespace gander::test {
namespace {

TEST(Grad, Activations) {
  Rng rng(1);
  for (ops::Act a : {ops::Act::Tanh, ops::Act::Sigmoid, ops::Act::Exp, ops::Act::Softplus, ops::Act::ReluSquared,
                     ops::Act::Silu})
    for (int64_t n : {1, 17, 300}) {
      const Values x{random_values(rng, n)};
      const auto probe = random_values(rng, n);
      auto loss = [&](const Values& in) {
        double s = 0;
        for (size_t i = 0; i < in[0].size(); ++i) s += ops::kern::act<double>(a, in[0][i]) * probe[i];
        return s;
      };
      Tensor X = tensor_of(x[0], {n}), P = tensor_of(probe, {n}), gr = zeros({n}), gf = zeros({n});
      ops::ref::activation_backward(a, X, P, gr);
      ops::fast::activation_backward(a, X, P, gf);
      const FdResult fd = fd_check(x, loss, {values_of(gr)}, rng);
      EXPECT_LE(fd.worst, kFdTol) << ops::act_name(a) << " n=" << n << ": " << fd.where;
      EXPECT_LE(rel_diff(gf, gr), kFastTol) << ops::act_name(a);
    }
}

TEST(Grad, LerpBroadcastAndElementwise) {
  Rng rng(2);
  for (auto [R, C, elementwise] : {std::tuple{1, 5, false}, {7, 33, false}, {13, 64, true}, {3, 1, true}}) {
    const int64_t M = elementwise ? R * C : C;
    const Values x{random_values(rng, R * C), random_values(rng, R * C), uniform_values(rng, M, 0, 1)};
    const auto probe = random_values(rng, R * C);
    auto loss = [&](const Values& in) {
      double s = 0;
      for (int64_t i = 0; i < R * C; ++i) {
        const double m = in[2][size_t(elementwise ? i : i % C)];
        s += (in[0][size_t(i)] + (in[1][size_t(i)] - in[0][size_t(i)]) * m) * probe[size_t(i)];
      }
      return s;
    };
    Tensor A = tensor_of(x[0], {R, C}), B = tensor_of(x[1], {R, C}), Mx = tensor_of(x[2], elementwise ? Shape{R, C} : Shape{C});
    Tensor P = tensor_of(probe, {R, C});
    Tensor ga = zeros({R, C}), gb = zeros({R, C}), gm = zeros(Mx.shape());
    Tensor fa = zeros({R, C}), fb = zeros({R, C}), fm = zeros(Mx.shape());
    ops::ref::lerp_backward(A, B, Mx, P, &ga, &gb, &gm);
    ops::fast::lerp_backward(A, B, Mx, P, &fa, &fb, &fm);
    const FdResult fd = fd_check(x, loss, {values_of(ga), values_of(gb), values_of(gm)}, rng);
    EXPECT_LE(fd.worst, kFdTol) << R << "x" << C << ": " << fd.where;
    EXPECT_LE(rel_diff(fa, ga) + rel_diff(fb, gb) + rel_diff(fm, gm), kFastTol);
  }
}

TEST(Grad, GroupLayerAndRmsNorm) {
  Rng rng(3);
  for (auto [R, C, groups, rms] : {std::tuple{1, 8, 1, false}, {5, 48, 3, false}, {9, 130, 2, false}, {600, 64, 1, false},
                                   {4, 37, 1, true}, {300, 96, 1, true}}) {
    const float eps = 1e-5f;
    const Values x{random_values(rng, R * C, 1.5, 0.3), random_values(rng, C, 0.3, 1.0), random_values(rng, C)};
    const auto probe = random_values(rng, R * C);
    const int64_t G = C / groups;
    auto loss = [&](const Values& in) {
      double s = 0;
      std::vector<double> y(static_cast<size_t>(G));
      for (int64_t r = 0; r < R; ++r)
        for (int64_t g = 0; g < groups; ++g) {
          const int64_t o = r * C + g * G;
          ops::kern::norm_row<double>(in[0].data() + o, in[1].data() + g * G, rms ? nullptr : in[2].data() + g * G,
                                      eps, G, !rms, y.data());
          for (int64_t i = 0; i < G; ++i) s += y[size_t(i)] * probe[size_t(o + i)];
        }
      return s;
    };
    Tensor X = tensor_of(x[0], {R, C}), W = tensor_of(x[1], {C}), P = tensor_of(probe, {R, C});
    Tensor gx = zeros({R, C}), gw = zeros({C}), gb = zeros({C}), fx = zeros({R, C}), fw = zeros({C}), fb = zeros({C});
    if (rms) {
      ops::ref::rms_norm_backward(X, W, eps, P, gx, &gw);
      ops::fast::rms_norm_backward(X, W, eps, P, fx, &fw);
    } else {
      ops::ref::group_norm_backward(X, groups, W, eps, P, gx, &gw, &gb);
      ops::fast::group_norm_backward(X, groups, W, eps, P, fx, &fw, &fb);
    }
    const FdResult fd = fd_check(x, loss, {values_of(gx), values_of(gw), values_of(gb)}, rng);
    EXPECT_LE(fd.worst, kFdTol) << R << "x" << C << " groups " << groups << (rms ? " rms" : "") << ": " << fd.where;
    EXPECT_LE(rel_diff(fx, gx) + rel_diff(fw, gw) + (rms ? 0 : rel_diff(fb, gb)), kFastTol);
  }
}

// The linear layer's backward as two products: dX = dY . W, dW = dY^T . X (oneDNN vs the loop).
TEST(Grad, LinearThroughMatmul) {
  Rng rng(4);
  for (auto [R, K, N] : {std::tuple{1, 1, 1}, {3, 17, 5}, {37, 64, 130}, {100, 33, 7}}) {
    const Values x{random_values(rng, R * K), random_values(rng, N * K)};
    const auto probe = random_values(rng, R * N);
    auto loss = [&](const Values& in) {
      double s = 0;
      for (int64_t r = 0; r < R; ++r)
        for (int64_t n = 0; n < N; ++n) s += dot({in[0].begin() + r * K, in[0].begin() + (r + 1) * K},
                                                 {in[1].begin() + n * K, in[1].begin() + (n + 1) * K}) * probe[size_t(r * N + n)];
      return s;
    };
    Tensor X = tensor_of(x[0], {R, K}), W = tensor_of(x[1], {N, K}), P = tensor_of(probe, {R, N});
    Tensor gx = zeros({R, K}), gw = zeros({N, K}), fx = zeros({R, K}), fw = zeros({N, K});
    ops::ref::matmul(P, false, W, false, gx, true);
    ops::ref::matmul(P, true, X, false, gw, true);
    ops::fast::matmul(P, false, W, false, fx, true);
    ops::fast::matmul(P, true, X, false, fw, false);
    const FdResult fd = fd_check(x, loss, {values_of(gx), values_of(gw)}, rng);
    EXPECT_LE(fd.worst, kFdTol) << R << "x" << K << "x" << N << ": " << fd.where;
    EXPECT_LE(rel_diff(fx, gx) + rel_diff(fw, gw), kFastTol);
    Tensor y = zeros({R, N}), yr = zeros({R, N});
    ops::fast::matmul(X, false, W, true, y);
    ops::ref::matmul(X, false, W, true, yr);
    EXPECT_LE(rel_diff(y, yr), kFastTol);
  }
}

// Mixed precision: the bf16 product rounds both operands to bf16 and accumulates in f32, on
// every transpose combination and with accumulation; the reference rounds the same way and sums
// in double, so the two agree to f32 accumulation error, while both differ from the f32 product
// by about bf16's rounding.
TEST(Grad, Bf16ProductsRoundTheOperandsAndAccumulateInF32) {
  Rng rng(5);
  for (auto [M, K, N] : {std::tuple{1, 1, 1}, {3, 17, 5}, {37, 64, 130}, {100, 33, 7}, {256, 300, 97}})
    for (int variant = 0; variant < 8; ++variant) {
      const bool ta = variant & 1, tb = variant & 2, acc = variant & 4;
      Tensor A = random_tensor_like(rng, ta ? Shape{K, M} : Shape{M, K});
      Tensor B = random_tensor_like(rng, tb ? Shape{N, K} : Shape{K, N});
      Tensor C0 = random_tensor_like(rng, {M, N});
      Tensor fast = C0.clone(), ref = C0.clone(), exact = C0.clone();
      ops::fast::matmul(A, ta, B, tb, fast, acc, ops::Precision::BF16);
      ops::ref::matmul(A, ta, B, tb, ref, acc, ops::Precision::BF16);
      ops::ref::matmul(A, ta, B, tb, exact, acc);
      EXPECT_LE(rel_diff(fast, ref), kFastTol) << M << "x" << K << "x" << N << " variant " << variant;
      if (K >= 17) {
        EXPECT_GT(rel_diff(ref, exact), 1e-5) << "the operands were not rounded";
        EXPECT_LT(rel_diff(ref, exact), 2e-2);
      }
    }
  Tensor d = Tensor::zeros(DType::F64, {2, 2}), C = Tensor::zeros(DType::F64, {2, 2});
  EXPECT_THROW(ops::fast::matmul(d, false, d, false, C, false, ops::Precision::BF16), Error);
}

// Inputs of the recurrence as the time mix makes them: decays in (0.3, 1), a = -kappa and
// b = kappa * rate with kappa of unit length per head.
Values wkv7_inputs(Rng& rng, int64_t T, int64_t H, int64_t N) {
  const int64_t C = H * N;
  Values x{random_values(rng, T * C), uniform_values(rng, T * C, 0.3, 0.999), random_values(rng, T * C, 0.3),
           random_values(rng, T * C), std::vector<double>(size_t(T * C)), std::vector<double>(size_t(T * C)),
           random_values(rng, H * N * N, 0.2)};
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t o = t * C + h * N;
      std::vector<double> kap = random_values(rng, N);
      const double n = std::sqrt(dot(kap, kap));
      for (int64_t i = 0; i < N; ++i) {
        const double rate = rng.uniform();
        x[4][size_t(o + i)] = double(float(-kap[size_t(i)] / n));
        x[5][size_t(o + i)] = double(float(kap[size_t(i)] / n * rate));
      }
    }
  return x;
}

TEST(Grad, Wkv7RecurrenceWithCheckpointsAndInitialState) {
  Rng rng(5);
  for (auto [T, H, N] : {std::tuple{1, 1, 16}, {17, 2, 16}, {37, 1, 32}, {40, 2, 64}}) {
    const int64_t C = H * N;
    const Values x = wkv7_inputs(rng, T, H, N);  // r w k v a b, then S0
    const auto probe_y = random_values(rng, T * C), probe_s = random_values(rng, H * N * N);
    auto loss = [&](const Values& in) {
      std::vector<double> S(in[6]);
      double s = 0;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < H; ++h) {
          const int64_t o = t * C + h * N;
          double* Sh = S.data() + h * N * N;
          ops::kern::wkv7_step(N, Sh, in[1].data() + o, in[2].data() + o, in[3].data() + o, in[4].data() + o,
                               in[5].data() + o);
          for (int64_t i = 0; i < N; ++i)
            s += dot({Sh + i * N, Sh + (i + 1) * N}, {in[0].begin() + o, in[0].begin() + o + N}) * probe_y[size_t(o + i)];
        }
      return s + dot(S, probe_s);  // the final state feeds what follows
    };
    std::vector<Tensor> in;
    for (int i = 0; i < 6; ++i) in.push_back(tensor_of(x[size_t(i)], {T, C}));
    const Tensor S0 = tensor_of(x[6], {H, N, N}), dy = tensor_of(probe_y, {T, C});
    const ops::Wkv7Args args{in[0], in[1], in[2], in[3], in[4], in[5]};
    std::vector<Tensor> gr, gf;
    for (int i = 0; i < 6; ++i) gr.push_back(zeros({T, C})), gf.push_back(zeros({T, C}));
    Tensor dS_ref = tensor_of(probe_s, {H, N, N}), dS_fast = tensor_of(probe_s, {H, N, N});
    ops::ref::wkv7_backward(args, S0, dy, {gr[0], gr[1], gr[2], gr[3], gr[4], gr[5]}, dS_ref);
    Tensor state = S0.clone(), y = zeros({T, C});
    Tensor ck = Tensor::empty(DType::F32, {(T + 15) / 16, H, N, N});
    ops::wkv7_forward_checkpointed(args, state, y, ck);
    ops::wkv7_backward(args, ck, dy, {gf[0], gf[1], gf[2], gf[3], gf[4], gf[5]}, dS_fast);
    Values analytic;
    for (const Tensor& g : gr) analytic.push_back(values_of(g));
    analytic.push_back(values_of(dS_ref));
    const FdResult fd = fd_check(x, loss, analytic, rng);
    EXPECT_LE(fd.worst, kFdTol) << "T" << T << " H" << H << " N" << N << ": " << fd.where;
    double fast = rel_diff(dS_fast, dS_ref);
    for (int i = 0; i < 6; ++i) fast = std::max(fast, rel_diff(gf[size_t(i)], gr[size_t(i)]));
    EXPECT_LE(fast, 1e-4) << "T" << T << " N" << N;  // f32 recurrences over T tokens
  }
}

TEST(Grad, Wkv7PrepareBothKeyForms) {
  Rng rng(6);
  for (ops::Wkv7Keys keys : {ops::Wkv7Keys::Goose, ops::Wkv7Keys::Balanced})
    for (auto [R, H, N] : {std::tuple{1, 1, 16}, {5, 2, 32}, {3, 3, 64}}) {
      const bool goose = keys == ops::Wkv7Keys::Goose;
      const int64_t C = H * N;
      const Values x{random_values(rng, R * C), random_values(rng, R * C, 1.0, -2.0), uniform_values(rng, R * C, 0.05, 0.95),
                     uniform_values(rng, C, 0.5, 1.5), uniform_values(rng, C, 0.5, 1.5)};
      Values probe;
      for (int i = 0; i < 4; ++i) probe.push_back(random_values(rng, R * C));
      auto loss = [&](const Values& in) {
        std::vector<double> out(static_cast<size_t>(4 * N));
        double s = 0;
        for (int64_t o = 0; o < R * C; o += N) {
          const int64_t c = o % C;
          ops::kern::wkv7_prepare_head<double>(N, in[0].data() + o, in[1].data() + o, in[2].data() + o,
                                               goose ? in[3].data() + c : nullptr, goose ? in[4].data() + c : nullptr,
                                               out.data(), out.data() + N, out.data() + 2 * N, out.data() + 3 * N);
          for (int q = 0; q < 4; ++q)
            for (int64_t i = 0; i < N; ++i) s += out[size_t(q * N + i)] * probe[size_t(q)][size_t(o + i)];
        }
        return s;
      };
      Tensor K = tensor_of(x[0], {R, C}), Dp = tensor_of(x[1], {R, C}), A = tensor_of(x[2], {R, C});
      Tensor KK = tensor_of(x[3], {C}), KA = tensor_of(x[4], {C});
      Tensor gk = zeros({R, C}), gd = zeros({R, C}), ga = zeros({R, C}), gkk = zeros({C}), gka = zeros({C});
      ops::wkv7_prepare_backward({K, Dp, A, goose ? &KK : nullptr, goose ? &KA : nullptr, keys,
                                  tensor_of(probe[0], {R, C}), tensor_of(probe[1], {R, C}), tensor_of(probe[2], {R, C}),
                                  tensor_of(probe[3], {R, C}), gk, gd, ga, &gkk, &gka},
                                 N);
      const FdResult fd = fd_check(x, loss, {values_of(gk), values_of(gd), values_of(ga), values_of(gkk), values_of(gka)}, rng);
      EXPECT_LE(fd.worst, kFdTol) << (goose ? "goose" : "balanced") << " R" << R << " N" << N << ": " << fd.where;
    }
}

TEST(Grad, Wkv7OutputEveryForm) {
  Rng rng(7);
  for (bool gn : {true, false})
    for (bool bonus : {true, false})
      for (auto [R, H, N] : {std::tuple{1, 1, 16}, {4, 2, 32}, {3, 2, 64}}) {
        const int64_t C = H * N;
        const float eps = 64e-5f, scale = 1.0f / std::sqrt(float(N));
        Values x;
        for (int i = 0; i < 5; ++i) x.push_back(random_values(rng, R * C));
        x.push_back(random_values(rng, C, 0.3, 1.0));
        x.push_back(random_values(rng, C, 0.1));
        x.push_back(random_values(rng, C, 0.5));
        const auto probe = random_values(rng, R * C);
        auto loss = [&](const Values& in) {
          std::vector<double> out(static_cast<size_t>(N));
          double s = 0;
          for (int64_t o = 0; o < R * C; o += N) {
            const int64_t c = o % C;
            ops::kern::wkv7_output_head<double>(N, in[0].data() + o, in[1].data() + o, in[2].data() + o,
                                                in[3].data() + o, in[4].data() + o, gn ? in[5].data() + c : nullptr,
                                                gn ? in[6].data() + c : nullptr, bonus ? in[7].data() + c : nullptr,
                                                eps, scale, out.data());
            for (int64_t i = 0; i < N; ++i) s += out[size_t(i)] * probe[size_t(o + i)];
          }
          return s;
        };
        std::vector<Tensor> in;
        for (int i = 0; i < 5; ++i) in.push_back(tensor_of(x[size_t(i)], {R, C}));
        Tensor LW = tensor_of(x[5], {C}), LB = tensor_of(x[6], {C}), RK = tensor_of(x[7], {C});
        std::vector<Tensor> g;
        for (int i = 0; i < 5; ++i) g.push_back(zeros({R, C}));
        Tensor glw = zeros({C}), glb = zeros({C}), grk = zeros({C});
        ops::wkv7_output_backward({in[0], in[1], in[2], in[3], in[4], gn ? &LW : nullptr, gn ? &LB : nullptr,
                                   bonus ? &RK : nullptr, eps, scale},
                                  N, tensor_of(probe, {R, C}),
                                  {g[0], g[1], g[2], g[3], g[4], gn ? &glw : nullptr, gn ? &glb : nullptr,
                                   bonus ? &grk : nullptr});
        Values analytic;
        for (const Tensor& t : g) analytic.push_back(values_of(t));
        for (const Tensor* t : {&glw, &glb, &grk}) analytic.push_back(values_of(*t));
        const FdResult fd = fd_check(x, loss, analytic, rng);
        EXPECT_LE(fd.worst, kFdTol) << (gn ? "groupnorm" : "scaled") << (bonus ? "+bonus" : "") << " R" << R << " N"
                                    << N << ": " << fd.where;
      }
}

TEST(Grad, CrossEntropyFusedWithTheHead) {
  Rng rng(8);
  for (auto [R, D, V, block] : {std::tuple{1, 8, 5, 256}, {37, 24, 300, 16}, {70, 64, 97, 256}}) {
    const Values x{random_values(rng, R * D), random_values(rng, V * D, 0.3)};
    std::vector<int32_t> targets(static_cast<size_t>(R));
    for (auto& t : targets) t = int32_t(rng.next_u64() % uint64_t(V));
    if (R > 2) targets[1] = -1;  // a row without a target
    int64_t counted = 0;
    for (int32_t t : targets) counted += t >= 0;
    auto loss = [&](const Values& in) {
      double s = 0;
      std::vector<double> z(static_cast<size_t>(V));
      for (int64_t r = 0; r < R; ++r) {
        if (targets[size_t(r)] < 0) continue;
        for (int64_t v = 0; v < V; ++v)
          z[size_t(v)] = dot({in[0].begin() + r * D, in[0].begin() + (r + 1) * D}, {in[1].begin() + v * D, in[1].begin() + (v + 1) * D});
        const double m = *std::max_element(z.begin(), z.end());
        double e = 0;
        for (double q : z) e += std::exp(q - m);
        s += m + std::log(e) - z[size_t(targets[size_t(r)])];
      }
      return s / double(counted);
    };
    Tensor H = tensor_of(x[0], {R, D}), W = tensor_of(x[1], {V, D});
    for (float l2wrap : {0.0f, 1e-2f}) {
      Tensor gh = zeros({R, D}), gw = zeros({V, D}), fh = zeros({R, D}), fw = zeros({V, D});
      const double lr = ops::ref::cross_entropy_head({H, W, targets, l2wrap, block}, gh, &gw);
      const double lf = ops::cross_entropy_head({H, W, targets, l2wrap, block}, fh, &fw);
      EXPECT_NEAR(lf, lr, 1e-5 * std::fabs(lr));
      EXPECT_NEAR(lr, loss(x), 1e-6 * std::fabs(lr));
      EXPECT_LE(rel_diff(fh, gh) + rel_diff(fw, gw), kFastTol) << "R" << R << " V" << V;
      if (l2wrap == 0) {  // (L2Wrap's extra gradient is not the gradient of a loss)
        const FdResult fd = fd_check(x, loss, {values_of(gh), values_of(gw)}, rng);
        EXPECT_LE(fd.worst, kFdTol) << "R" << R << " V" << V << ": " << fd.where;
      }
    }
  }
}

}  // namespace
}  // namespace gander::test
