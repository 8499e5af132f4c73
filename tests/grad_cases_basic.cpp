// Gradient checks of the element-wise ops, the norms, the products and the cross-entropy head.
#include "grad_cases.h"
#include "ops/backward.h"
#include "ops/grad_kernels.h"
#include "ops/loss.h"
#include "ops/matmul.h"

namespace gander::test {

// Sizes: n.
GradientCase activation_gradient(ops::Act a) {
  return {{{1}, {17}, {300}}, [a](const Sizes& s, Rng& rng) {
            const int64_t n = s[0];
            const Values x{random_values(rng, n)};
            const auto probe = random_values(rng, n);
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (size_t i = 0; i < in[0].size(); ++i) sum += ops::kern::act<double>(a, in[0][i]) * probe[i];
              return sum;
            };
            Tensor X = tensor_of(x[0], {n}), P = tensor_of(probe, {n}), gr = zeros({n}), gf = zeros({n});
            ops::ref::activation_backward(a, X, P, gr);
            ops::fast::activation_backward(a, X, P, gf);
            return std::vector{differences_within(fd_check(x, loss, {values_of(gr)}, rng), kFdTol),
                               fast_within(rel_diff(gf, gr), kFastTol)};
          }};
}

// Sizes: rows, columns, whether the mix is per element (1) or per column (0).
GradientCase lerp_gradient() {
  return {{{1, 5, 0}, {7, 33, 0}, {13, 64, 1}, {3, 1, 1}}, [](const Sizes& s, Rng& rng) {
            const int64_t R = s[0], C = s[1];
            const bool elementwise = s[2];
            const int64_t M = elementwise ? R * C : C;
            const Values x{random_values(rng, R * C), random_values(rng, R * C), uniform_values(rng, M, 0, 1)};
            const auto probe = random_values(rng, R * C);
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (int64_t i = 0; i < R * C; ++i) {
                const double m = in[2][size_t(elementwise ? i : i % C)];
                sum += (in[0][size_t(i)] + (in[1][size_t(i)] - in[0][size_t(i)]) * m) * probe[size_t(i)];
              }
              return sum;
            };
            Tensor A = tensor_of(x[0], {R, C}), B = tensor_of(x[1], {R, C});
            Tensor Mx = tensor_of(x[2], elementwise ? Shape{R, C} : Shape{C}), P = tensor_of(probe, {R, C});
            Tensor ga = zeros({R, C}), gb = zeros({R, C}), gm = zeros(Mx.shape());
            Tensor fa = zeros({R, C}), fb = zeros({R, C}), fm = zeros(Mx.shape());
            ops::ref::lerp_backward(A, B, Mx, P, &ga, &gb, &gm);
            ops::fast::lerp_backward(A, B, Mx, P, &fa, &fb, &fm);
            return std::vector{differences_within(fd_check(x, loss, {values_of(ga), values_of(gb), values_of(gm)}, rng), kFdTol),
                               fast_within(rel_diff(fa, ga) + rel_diff(fb, gb) + rel_diff(fm, gm), kFastTol)};
          }};
}

namespace {

// Sizes: rows, columns, groups (group norm; 1 is layer norm; rms: no centring, no bias).
std::vector<GradCheck> norm_check(const Sizes& s, bool rms, Rng& rng) {
  const int64_t R = s[0], C = s[1], groups = rms ? 1 : s[2];
  const float eps = 1e-5f;
  const Values x{random_values(rng, R * C, 1.5, 0.3), random_values(rng, C, 0.3, 1.0), random_values(rng, C)};
  const auto probe = random_values(rng, R * C);
  const int64_t G = C / groups;
  auto loss = [&](const Values& in) {
    double sum = 0;
    std::vector<double> y(static_cast<size_t>(G));
    for (int64_t r = 0; r < R; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t o = r * C + g * G;
        ops::kern::norm_row<double>(in[0].data() + o, in[1].data() + g * G, rms ? nullptr : in[2].data() + g * G, eps,
                                    G, !rms, y.data());
        for (int64_t i = 0; i < G; ++i) sum += y[size_t(i)] * probe[size_t(o + i)];
      }
    return sum;
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
  return {differences_within(fd_check(x, loss, {values_of(gx), values_of(gw), values_of(gb)}, rng), kFdTol),
          fast_within(rel_diff(fx, gx) + rel_diff(fw, gw) + (rms ? 0 : rel_diff(fb, gb)), kFastTol)};
}

}  // namespace

GradientCase group_norm_gradient() {
  return {{{1, 8, 1}, {5, 48, 3}, {9, 130, 2}, {600, 64, 1}},
          [](const Sizes& s, Rng& rng) { return norm_check(s, false, rng); }};
}

GradientCase rms_norm_gradient() {
  return {{{4, 37}, {300, 96}}, [](const Sizes& s, Rng& rng) { return norm_check(s, true, rng); }};
}

// The linear layer's backward as two products, dX = dY . W and dW = dY^T . X (oneDNN against
// the loop), and its forward product. Sizes: rows, K, N.
GradientCase linear_gradient() {
  return {{{1, 1, 1}, {3, 17, 5}, {37, 64, 130}, {100, 33, 7}}, [](const Sizes& s, Rng& rng) {
            const int64_t R = s[0], K = s[1], N = s[2];
            const Values x{random_values(rng, R * K), random_values(rng, N * K)};
            const auto probe = random_values(rng, R * N);
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (int64_t r = 0; r < R; ++r)
                for (int64_t n = 0; n < N; ++n)
                  sum += dot({in[0].begin() + r * K, in[0].begin() + (r + 1) * K},
                             {in[1].begin() + n * K, in[1].begin() + (n + 1) * K}) * probe[size_t(r * N + n)];
              return sum;
            };
            Tensor X = tensor_of(x[0], {R, K}), W = tensor_of(x[1], {N, K}), P = tensor_of(probe, {R, N});
            Tensor gx = zeros({R, K}), gw = zeros({N, K}), fx = zeros({R, K}), fw = zeros({N, K});
            ops::ref::matmul(P, false, W, false, gx, true);
            ops::ref::matmul(P, true, X, false, gw, true);
            ops::fast::matmul(P, false, W, false, fx, true);
            ops::fast::matmul(P, true, X, false, fw, false);
            Tensor y = zeros({R, N}), yr = zeros({R, N});
            ops::fast::matmul(X, false, W, true, y);
            ops::ref::matmul(X, false, W, true, yr);
            return std::vector{differences_within(fd_check(x, loss, {values_of(gx), values_of(gw)}, rng), kFdTol),
                               fast_within(rel_diff(fx, gx) + rel_diff(fw, gw) + rel_diff(y, yr), kFastTol)};
          }};
}

// The cross-entropy fused with the head product, in blocks of rows, with a row that has no
// target, with and without L2Wrap (whose extra gradient is not the gradient of a loss, so only
// fast against reference). Sizes: rows, D, V, rows per block.
GradientCase cross_entropy_gradient() {
  return {{{1, 8, 5, 256}, {37, 24, 300, 16}, {70, 64, 97, 256}}, [](const Sizes& s, Rng& rng) {
            const int64_t R = s[0], D = s[1], V = s[2], block = s[3];
            const Values x{random_values(rng, R * D), random_values(rng, V * D, 0.3)};
            std::vector<int32_t> targets(static_cast<size_t>(R));
            for (auto& t : targets) t = int32_t(rng.next_u64() % uint64_t(V));
            if (R > 2) targets[1] = -1;
            int64_t counted = 0;
            for (int32_t t : targets) counted += t >= 0;
            auto loss = [&](const Values& in) {
              double sum = 0;
              std::vector<double> z(static_cast<size_t>(V));
              for (int64_t r = 0; r < R; ++r) {
                if (targets[size_t(r)] < 0) continue;
                for (int64_t v = 0; v < V; ++v)
                  z[size_t(v)] = dot({in[0].begin() + r * D, in[0].begin() + (r + 1) * D},
                                     {in[1].begin() + v * D, in[1].begin() + (v + 1) * D});
                const double m = *std::max_element(z.begin(), z.end());
                double e = 0;
                for (double q : z) e += std::exp(q - m);
                sum += m + std::log(e) - z[size_t(targets[size_t(r)])];
              }
              return sum / double(counted);
            };
            Tensor H = tensor_of(x[0], {R, D}), W = tensor_of(x[1], {V, D});
            std::vector<GradCheck> checks;
            for (float l2wrap : {0.0f, 1e-2f}) {
              Tensor gh = zeros({R, D}), gw = zeros({V, D}), fh = zeros({R, D}), fw = zeros({V, D});
              const double lr = ops::ref::cross_entropy_head({H, W, targets, l2wrap, block}, gh, &gw);
              const double lf = ops::cross_entropy_head({H, W, targets, l2wrap, block}, fh, &fw);
              checks.push_back({"fast loss against reference", relative(lf, lr), 1e-5, ""});
              checks.push_back({"reference loss against the double loop", relative(lr, loss(x)), 1e-6, ""});
              checks.push_back(fast_within(rel_diff(fh, gh) + rel_diff(fw, gw), kFastTol));
              if (l2wrap == 0) checks.push_back(differences_within(fd_check(x, loss, {values_of(gh), values_of(gw)}, rng), kFdTol));
            }
            return checks;
          }};
}

}  // namespace gander::test
