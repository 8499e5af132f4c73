// Gradient checks of the distillation losses: KL between two heads' distributions (fused with
// both head products) and the per-token L2 distance.
#include "grad_cases.h"
#include "ops/loss.h"

namespace gander::test {
namespace {

std::vector<double> log_softmax(std::vector<double> z) {
  const double m = *std::max_element(z.begin(), z.end());
  double e = 0;
  for (double q : z) e += std::exp(q - m);
  const double lse = m + std::log(e);
  for (double& q : z) q -= lse;
  return z;
}

std::vector<double> logits(const std::vector<double>& h, const std::vector<double>& W, int64_t r, int64_t D, int64_t V) {
  std::vector<double> z(static_cast<size_t>(V));
  for (int64_t v = 0; v < V; ++v)
    z[size_t(v)] = dot({h.begin() + r * D, h.begin() + (r + 1) * D}, {W.begin() + v * D, W.begin() + (v + 1) * D});
  return z;
}

}  // namespace

// Sizes: rows, student D, teacher D, V, rows per block: one block, several with a ragged last
// one, and a teacher of another width (a student head that is not the teacher's).
GradientCase kl_divergence_gradient() {
  return {{{1, 8, 8, 5, 256}, {37, 24, 40, 300, 16}, {70, 64, 32, 97, 256}}, [](const Sizes& s, Rng& rng) {
            const int64_t R = s[0], D = s[1], Dt = s[2], V = s[3], block = s[4];
            const Values x{random_values(rng, R * D), random_values(rng, V * D, 0.3)};
            const auto th = random_values(rng, R * Dt), tW = random_values(rng, V * Dt, 0.3);
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (int64_t r = 0; r < R; ++r) {
                const auto ls = log_softmax(logits(in[0], in[1], r, D, V)), lt = log_softmax(logits(th, tW, r, Dt, V));
                for (int64_t v = 0; v < V; ++v) sum += std::exp(lt[size_t(v)]) * (lt[size_t(v)] - ls[size_t(v)]);
              }
              return sum / double(R);
            };
            Tensor H = tensor_of(x[0], {R, D}), W = tensor_of(x[1], {V, D}), TH = tensor_of(th, {R, Dt}),
                   TW = tensor_of(tW, {V, Dt});
            Tensor gh = zeros({R, D}), gw = zeros({V, D}), fh = zeros({R, D}), fw = zeros({V, D});
            const double lr = ops::ref::kl_divergence_head({H, W, TH, TW, block}, gh, &gw);
            const double lf = ops::kl_divergence_head({H, W, TH, TW, block}, fh, &fw);
            return std::vector<GradCheck>{{"reference loss against the double loop", relative(lr, loss(x)), 1e-6, ""},
                                          {"fast loss against reference", relative(lf, lr), 1e-5, ""},
                                          {"a positive divergence", lr > 0 ? 0.0 : 1.0, 0.0, ""},
                                          fast_within(rel_diff(fh, gh) + rel_diff(fw, gw), kFastTol),
                                          differences_within(fd_check(x, loss, {values_of(gh), values_of(gw)}, rng), kFdTol)};
          }};
}

// Sizes: rows, D.
GradientCase l2_distance_gradient() {
  return {{{1, 1}, {5, 17}, {64, 96}}, [](const Sizes& s, Rng& rng) {
            const int64_t R = s[0], D = s[1];
            const Values x{random_values(rng, R * D)};
            const auto target = random_values(rng, R * D);
            const double scale = 0.7;
            auto loss = [&](const Values& in) {
              double sum = 0;
              for (int64_t r = 0; r < R; ++r) {
                double ss = 0;
                for (int64_t c = 0; c < D; ++c) ss += std::pow(in[0][size_t(r * D + c)] - target[size_t(r * D + c)], 2);
                sum += std::sqrt(ss);
              }
              return scale * sum / (std::sqrt(double(D)) * double(R));
            };
            Tensor Y = tensor_of(x[0], {R, D}), T = tensor_of(target, {R, D}), gr = zeros({R, D}), gf = zeros({R, D});
            const double lr = ops::ref::l2_distance(Y, T, gr, scale), lf = ops::l2_distance(Y, T, gf, scale);
            return std::vector<GradCheck>{{"reference loss against the double loop", relative(scale * lr, loss(x)), 1e-9, ""},
                                          {"fast loss against reference", relative(lf, lr), 1e-6, ""},
                                          fast_within(rel_diff(gf, gr), kFastTol),
                                          differences_within(fd_check(x, loss, {values_of(gr)}, rng), kFdTol)};
          }};
}

}  // namespace gander::test
