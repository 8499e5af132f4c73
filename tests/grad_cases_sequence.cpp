// Gradient checks of the sequence ops: the WKV7 recurrence (checkpointed, with the initial
// state's gradient) and the ops around it, causal grouped attention, RoPE, repeated heads, and
// RAD-RWKV6's GLA recurrence.
#include "grad_cases.h"
#include "ops/attention_backward.h"
#include "ops/gla.h"
#include "ops/grad_kernels.h"
#include "ops/repeat_heads.h"
#include "ops/rope.h"
#include "ops/wkv7_backward.h"

namespace gander::test {
namespace {

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

// GLA's recurrence in its own layout, S[key][value] per head, from the initial state held
// [value][key]; the loss contracts every output and the final state with probes.
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

}  // namespace

// Sizes: T, heads, head size.
GradientCase wkv7_gradient() {
  return {{{1, 1, 16}, {17, 2, 16}, {37, 1, 32}, {40, 2, 64}}, [](const Sizes& s, Rng& rng) {
            const int64_t T = s[0], H = s[1], N = s[2], C = H * N;
            const Values x = wkv7_inputs(rng, T, H, N);  // r w k v a b, then S0
            const auto probe_y = random_values(rng, T * C), probe_s = random_values(rng, H * N * N);
            auto loss = [&](const Values& in) {
              std::vector<double> S(in[6]);
              double sum = 0;
              for (int64_t t = 0; t < T; ++t)
                for (int64_t h = 0; h < H; ++h) {
                  const int64_t o = t * C + h * N;
                  double* Sh = S.data() + h * N * N;
                  ops::kern::wkv7_step(N, Sh, in[1].data() + o, in[2].data() + o, in[3].data() + o, in[4].data() + o,
                                       in[5].data() + o);
                  for (int64_t i = 0; i < N; ++i)
                    sum += dot({Sh + i * N, Sh + (i + 1) * N}, {in[0].begin() + o, in[0].begin() + o + N}) *
                           probe_y[size_t(o + i)];
                }
              return sum + dot(S, probe_s);  // the final state feeds what follows
            };
            std::vector<Tensor> in;
            for (int i = 0; i < 6; ++i) in.push_back(tensor_of(x[size_t(i)], {T, C}));
            const Tensor S0 = tensor_of(x[6], {H, N, N}), dy = tensor_of(probe_y, {T, C});
            const ops::Wkv7Args args{in[0], in[1], in[2], in[3], in[4], in[5]};
            std::vector<Tensor> gr, gf;
            for (int i = 0; i < 6; ++i) gr.push_back(zeros({T, C})), gf.push_back(zeros({T, C}));
            Tensor dS_ref = tensor_of(probe_s, {H, N, N}), dS_fast = tensor_of(probe_s, {H, N, N});
            ops::ref::wkv7_backward(args, S0, dy, {gr[0], gr[1], gr[2], gr[3], gr[4], gr[5]}, dS_ref);
            Tensor state = S0.clone(), y = zeros({T, C}), ck = Tensor::empty(DType::F32, {(T + 15) / 16, H, N, N});
            ops::wkv7_forward_checkpointed(args, state, y, ck);
            ops::wkv7_backward(args, ck, dy, {gf[0], gf[1], gf[2], gf[3], gf[4], gf[5]}, dS_fast);
            Values analytic;
            for (const Tensor& g : gr) analytic.push_back(values_of(g));
            analytic.push_back(values_of(dS_ref));
            double fast = rel_diff(dS_fast, dS_ref);
            for (int i = 0; i < 6; ++i) fast = std::max(fast, rel_diff(gf[size_t(i)], gr[size_t(i)]));
            return std::vector{differences_within(fd_check(x, loss, analytic, rng), kFdTol),
                               fast_within(fast, 1e-4)};  // f32 recurrences over T tokens
          }};
}

// Sizes: rows, heads, head size.
GradientCase wkv7_prepare_gradient(ops::Wkv7Keys keys) {
  return {{{1, 1, 16}, {5, 2, 32}, {3, 3, 64}}, [keys](const Sizes& s, Rng& rng) {
            const int64_t R = s[0], H = s[1], N = s[2], C = H * N;
            const bool goose = keys == ops::Wkv7Keys::Goose;
            const Values x{random_values(rng, R * C), random_values(rng, R * C, 1.0, -2.0),
                           uniform_values(rng, R * C, 0.05, 0.95), uniform_values(rng, C, 0.5, 1.5),
                           uniform_values(rng, C, 0.5, 1.5)};
            Values probe;
            for (int i = 0; i < 4; ++i) probe.push_back(random_values(rng, R * C));
            auto loss = [&](const Values& in) {
              std::vector<double> out(static_cast<size_t>(4 * N));
              double sum = 0;
              for (int64_t o = 0; o < R * C; o += N) {
                const int64_t c = o % C;
                ops::kern::wkv7_prepare_head<double>(N, in[0].data() + o, in[1].data() + o, in[2].data() + o,
                                                     goose ? in[3].data() + c : nullptr, goose ? in[4].data() + c : nullptr,
                                                     out.data(), out.data() + N, out.data() + 2 * N, out.data() + 3 * N);
                for (int q = 0; q < 4; ++q)
                  for (int64_t i = 0; i < N; ++i) sum += out[size_t(q * N + i)] * probe[size_t(q)][size_t(o + i)];
              }
              return sum;
            };
            Tensor K = tensor_of(x[0], {R, C}), Dp = tensor_of(x[1], {R, C}), A = tensor_of(x[2], {R, C});
            Tensor KK = tensor_of(x[3], {C}), KA = tensor_of(x[4], {C});
            Tensor gk = zeros({R, C}), gd = zeros({R, C}), ga = zeros({R, C}), gkk = zeros({C}), gka = zeros({C});
            ops::wkv7_prepare_backward({K, Dp, A, goose ? &KK : nullptr, goose ? &KA : nullptr, keys,
                                        tensor_of(probe[0], {R, C}), tensor_of(probe[1], {R, C}),
                                        tensor_of(probe[2], {R, C}), tensor_of(probe[3], {R, C}), gk, gd, ga, &gkk, &gka},
                                       N);
            return std::vector{differences_within(
                fd_check(x, loss, {values_of(gk), values_of(gd), values_of(ga), values_of(gkk), values_of(gka)}, rng), kFdTol)};
          }};
}

// Sizes: rows, heads, head size.
GradientCase wkv7_output_gradient(bool gn, bool bonus) {
  return {{{1, 1, 16}, {4, 2, 32}, {3, 2, 64}}, [gn, bonus](const Sizes& s, Rng& rng) {
            const int64_t R = s[0], H = s[1], N = s[2], C = H * N;
            const float eps = 64e-5f, scale = 1.0f / std::sqrt(float(N));
            Values x;
            for (int i = 0; i < 5; ++i) x.push_back(random_values(rng, R * C));
            x.push_back(random_values(rng, C, 0.3, 1.0));
            x.push_back(random_values(rng, C, 0.1));
            x.push_back(random_values(rng, C, 0.5));
            const auto probe = random_values(rng, R * C);
            auto loss = [&](const Values& in) {
              std::vector<double> out(static_cast<size_t>(N));
              double sum = 0;
              for (int64_t o = 0; o < R * C; o += N) {
                const int64_t c = o % C;
                ops::kern::wkv7_output_head<double>(N, in[0].data() + o, in[1].data() + o, in[2].data() + o,
                                                    in[3].data() + o, in[4].data() + o, gn ? in[5].data() + c : nullptr,
                                                    gn ? in[6].data() + c : nullptr, bonus ? in[7].data() + c : nullptr,
                                                    eps, scale, out.data());
                for (int64_t i = 0; i < N; ++i) sum += out[size_t(i)] * probe[size_t(o + i)];
              }
              return sum;
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
            return std::vector{differences_within(fd_check(x, loss, analytic, rng), kFdTol)};
          }};
}

// Causal attention with grouped KV heads: the blockwise recomputation from log-sum-exp against
// double differences and against the reference that keeps the whole probability matrix.
// Sizes: T, query heads, KV heads, head size.
GradientCase attention_gradient() {
  return {{{1, 1, 1, 4}, {7, 4, 2, 8}, {19, 3, 1, 16}, {33, 2, 2, 32}, {150, 2, 1, 16}}, [](const Sizes& s, Rng& rng) {
            const int64_t T = s[0], Hq = s[1], Hkv = s[2], D = s[3], group = Hq / Hkv;
            const Values x{random_values(rng, T * Hq * D), random_values(rng, T * Hkv * D), random_values(rng, T * Hkv * D)};
            const auto probe = random_values(rng, T * Hq * D);
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (int64_t h = 0; h < Hq; ++h)
                for (int64_t t = 0; t < T; ++t) {
                  std::vector<double> p(static_cast<size_t>(t + 1));
                  double m = -INFINITY, z = 0;
                  for (int64_t j = 0; j <= t; ++j) {
                    double d = 0;
                    for (int64_t i = 0; i < D; ++i)
                      d += in[0][size_t((t * Hq + h) * D + i)] * in[1][size_t((j * Hkv + h / group) * D + i)];
                    m = std::max(m, p[size_t(j)] = d / std::sqrt(double(D)));
                  }
                  for (double& q : p) z += (q = std::exp(q - m));
                  for (int64_t i = 0; i < D; ++i) {
                    double o = 0;
                    for (int64_t j = 0; j <= t; ++j) o += p[size_t(j)] / z * in[2][size_t((j * Hkv + h / group) * D + i)];
                    sum += o * probe[size_t((t * Hq + h) * D + i)];
                  }
                }
              return sum;
            };
            Tensor Q = tensor_of(x[0], {T, Hq, D}), K = tensor_of(x[1], {T, Hkv, D}), V = tensor_of(x[2], {T, Hkv, D});
            Tensor P = tensor_of(probe, {T, Hq, D}), out = zeros({T, Hq, D}), lse = zeros({T, Hq});
            ops::attention_train(Q, K, V, out, lse);
            const double forward = dot(values_of(out), probe), want = loss(x);
            Tensor gq = zeros({T, Hq, D}), gk = zeros({T, Hkv, D}), gv = zeros({T, Hkv, D});
            Tensor rq = zeros({T, Hq, D}), rk = zeros({T, Hkv, D}), rv = zeros({T, Hkv, D});
            ops::attention_backward(Q, K, V, out, lse, P, gq, gk, gv);
            ops::ref::attention_backward(Q, K, V, P, rq, rk, rv);
            return std::vector<GradCheck>{
                {"training forward against the double loop", std::fabs(forward - want) / std::max(1.0, std::fabs(want)), 1e-5, ""},
                differences_within(fd_check(x, loss, {values_of(gq), values_of(gk), values_of(gv)}, rng), kFdTol),
                fast_within(rel_diff(gq, rq) + rel_diff(gk, rk) + rel_diff(gv, rv), kFastTol)};
          }};
}

// The rotation of ops/rope.h in double (f32 angles, as HF computes them), at positions with gaps.
// Sizes: T, heads, head size.
GradientCase rope_gradient() {
  return {{{5, 3, 8}, {2, 1, 64}, {9, 2, 18}}, [](const Sizes& s, Rng& rng) {
            const int64_t T = s[0], H = s[1], D = s[2];
            std::vector<int64_t> pos;
            for (int64_t t = 0; t < T; ++t) pos.push_back(t * t * 37 + t);
            const Values x{random_values(rng, T * H * D)};
            const auto probe = random_values(rng, T * H * D);
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (int64_t t = 0; t < T; ++t)
                for (int64_t h = 0; h < H; ++h)
                  for (int64_t i = 0; i < D / 2; ++i) {
                    const float a = float(pos[size_t(t)]) * (1.0f / std::pow(1e4f, float(2 * i) / float(D)));
                    const size_t o = size_t((t * H + h) * D + i);
                    const double c = std::cos(a), sn = std::sin(a), x1 = in[0][o], x2 = in[0][o + size_t(D / 2)];
                    sum += (x1 * c - x2 * sn) * probe[o] + (x2 * c + x1 * sn) * probe[o + size_t(D / 2)];
                  }
              return sum;
            };
            Tensor dx = zeros({T, H, D});
            ops::rope_backward(tensor_of(probe, {T, H, D}), pos, 1e4, dx);
            // (rope takes cos and sin of the f32 angles in f32)
            return std::vector{differences_within(fd_check(x, loss, {values_of(dx)}, rng), 1e-4)};
          }};
}

// Each KV head's gradient is the sum over the query heads it serves. Sizes: T, KV heads, group, head size.
GradientCase repeat_heads_gradient() {
  return {{{4, 2, 3, 8}, {1, 1, 1, 16}, {7, 3, 2, 5}}, [](const Sizes& s, Rng& rng) {
            const int64_t T = s[0], Hkv = s[1], group = s[2], D = s[3];
            const Values x{random_values(rng, T * Hkv * D)};
            const auto probe = random_values(rng, T * Hkv * group * D);
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (int64_t t = 0; t < T; ++t)
                for (int64_t h = 0; h < Hkv * group; ++h)
                  for (int64_t i = 0; i < D; ++i)
                    sum += in[0][size_t((t * Hkv + h / group) * D + i)] * probe[size_t((t * Hkv * group + h) * D + i)];
              return sum;
            };
            Tensor kv = tensor_of(x[0], {T, Hkv * D}), rep = zeros({T, Hkv * group * D}), dkv = zeros({T, Hkv * D});
            ops::repeat_heads(kv, group, D, rep);
            ops::repeat_heads_backward(tensor_of(probe, {T, Hkv * group * D}), group, D, dkv);
            return std::vector{differences_within(fd_check(x, loss, {values_of(dkv)}, rng), kFdTol),
                               GradCheck{"forward against the double loop", relative(dot(values_of(rep), probe), loss(x)), 1e-6, ""}};
          }};
}

// Decays as RAD-RWKV6 makes them: exp(max(-exp(d), -5)), so down to e^-5. Sizes: T, heads, head size.
GradientCase gla_gradient() {
  return {{{1, 1, 16}, {19, 2, 16}, {37, 1, 32}, {33, 1, 128}}, [](const Sizes& s, Rng& rng) {
            const int64_t T = s[0], H = s[1], N = s[2], C = H * N;
            const Values x{random_values(rng, T * C, 0.5), uniform_values(rng, T * C, 0.0067, 0.999),
                           random_values(rng, T * C, 0.3), random_values(rng, T * C), random_values(rng, H * N * N, 0.2)};
            const auto probe_y = random_values(rng, T * C), probe_s = random_values(rng, H * N * N);
            const Tensor r = tensor_of(x[0], {T, C}), w = tensor_of(x[1], {T, C}), k = tensor_of(x[2], {T, C}),
                         v = tensor_of(x[3], {T, C}), S0 = tensor_of(x[4], {H, N, N});
            const ops::GlaArgs args{r, w, k, v};
            Tensor s_fast = S0.clone(), s_ref = S0.clone(), y_fast = zeros({T, C}), y_ref = zeros({T, C});
            ops::gla(args, s_fast, y_fast);
            ops::ref::gla(args, s_ref, y_ref);
            Tensor state = S0.clone(), y = zeros({T, C}), ck = Tensor::empty(DType::F32, {(T + 15) / 16, H, N, N});
            ops::gla_forward_checkpointed(args, state, y, ck);
            Tensor gr = zeros({T, C}), gw = zeros({T, C}), gk = zeros({T, C}), gv = zeros({T, C});
            Tensor dS = tensor_of(probe_s, {H, N, N});
            ops::gla_backward(args, ck, tensor_of(probe_y, {T, C}), {gr, gw, gk, gv}, dS);
            auto loss = [&](const Values& in) { return gla_loss(in, T, H, N, probe_y, probe_s); };
            const Values analytic{values_of(gr), values_of(gw), values_of(gk), values_of(gv), values_of(dS)};
            return std::vector<GradCheck>{
                {"fast forward against the plain loop", rel_diff(y_fast, y_ref) + rel_diff(s_fast, s_ref), 1e-5, ""},
                {"checkpointed forward against the plain loop", rel_diff(y, y_ref), 1e-5, ""},
                differences_within(fd_check(x, loss, analytic, rng), 1e-4)};  // f32 backward over T tokens
          }};
}

}  // namespace gander::test
