// The distillation losses (KL between two heads' distributions, per-token L2 distance) against
// double-precision finite differences, and their fast f32 forms against the references.
#include <gtest/gtest.h>

#include "grad_check.h"
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

TEST(Grad, KlDivergenceFusedWithBothHeads) {
  Rng rng(21);
  // R, student D, teacher D, V, rows per block: one block, several with a ragged last one, and
  // a teacher of another width (a student head that is not the teacher's).
  for (auto [R, D, Dt, V, block] : {std::tuple{1, 8, 8, 5, 256}, {37, 24, 40, 300, 16}, {70, 64, 32, 97, 256}}) {
    const Values x{random_values(rng, R * D), random_values(rng, V * D, 0.3)};
    const auto th = random_values(rng, R * Dt), tW = random_values(rng, V * Dt, 0.3);
    auto loss = [&](const Values& in) {
      double s = 0;
      for (int64_t r = 0; r < R; ++r) {
        const auto ls = log_softmax(logits(in[0], in[1], r, D, V)), lt = log_softmax(logits(th, tW, r, Dt, V));
        for (int64_t v = 0; v < V; ++v) s += std::exp(lt[size_t(v)]) * (lt[size_t(v)] - ls[size_t(v)]);
      }
      return s / double(R);
    };
    Tensor H = tensor_of(x[0], {R, D}), W = tensor_of(x[1], {V, D}), TH = tensor_of(th, {R, Dt}),
           TW = tensor_of(tW, {V, Dt});
    Tensor gh = zeros({R, D}), gw = zeros({V, D}), fh = zeros({R, D}), fw = zeros({V, D});
    const double lr = ops::ref::kl_divergence_head({H, W, TH, TW, block}, gh, &gw);
    const double lf = ops::kl_divergence_head({H, W, TH, TW, block}, fh, &fw);
    EXPECT_GT(lr, 0);
    EXPECT_NEAR(lr, loss(x), 1e-6 * lr);
    EXPECT_NEAR(lf, lr, 1e-5 * lr);
    EXPECT_LE(rel_diff(fh, gh) + rel_diff(fw, gw), kFastTol) << "R" << R << " V" << V;
    const FdResult fd = fd_check(x, loss, {values_of(gh), values_of(gw)}, rng);
    EXPECT_LE(fd.worst, kFdTol) << "R" << R << " V" << V << ": " << fd.where;
  }
}

TEST(Grad, KlDivergenceOfAStudentEqualToItsTeacherIsZero) {
  Rng rng(22);
  Tensor H = random_tensor_like(rng, {9, 16}), W = random_tensor_like(rng, {50, 16});
  Tensor gh = zeros({9, 16}), gw = zeros({50, 16});
  EXPECT_NEAR(ops::kl_divergence_head({H, W, H, W, 4}, gh, &gw), 0.0, 1e-6);
  for (float g : gh.to_f32_vector()) EXPECT_LE(std::fabs(g), 1e-6f);
}

TEST(Grad, KlDivergenceRefusesATeacherOfAnotherVocabulary) {
  Rng rng(23);
  Tensor H = random_tensor_like(rng, {3, 8}), W = random_tensor_like(rng, {20, 8}), TW = random_tensor_like(rng, {21, 8});
  Tensor gh = zeros({3, 8});
  EXPECT_THROW(ops::kl_divergence_head({H, W, H, TW}, gh, nullptr), Error);
}

TEST(Grad, PerTokenL2Distance) {
  Rng rng(24);
  for (auto [R, D] : {std::pair{1, 1}, {5, 17}, {64, 96}}) {
    const Values x{random_values(rng, R * D)};
    const auto target = random_values(rng, R * D);
    const double scale = 0.7;
    auto loss = [&](const Values& in) {
      double s = 0;
      for (int64_t r = 0; r < R; ++r) {
        double ss = 0;
        for (int64_t c = 0; c < D; ++c) ss += std::pow(in[0][size_t(r * D + c)] - target[size_t(r * D + c)], 2);
        s += std::sqrt(ss);
      }
      return scale * s / (std::sqrt(double(D)) * double(R));
    };
    Tensor Y = tensor_of(x[0], {R, D}), T = tensor_of(target, {R, D}), gr = zeros({R, D}), gf = zeros({R, D});
    const double lr = ops::ref::l2_distance(Y, T, gr, scale), lf = ops::l2_distance(Y, T, gf, scale);
    EXPECT_NEAR(scale * lr, loss(x), 1e-9);
    EXPECT_NEAR(lf, lr, 1e-6 * lr);
    EXPECT_LE(rel_diff(gf, gr), kFastTol);
    const FdResult fd = fd_check(x, loss, {values_of(gr)}, rng);
    EXPECT_LE(fd.worst, kFdTol) << R << "x" << D << ": " << fd.where;
  }
  // A row equal to its target: zero loss and zero gradient, not a NaN.
  Tensor Y = random_tensor_like(rng, {2, 8}), dy = zeros({2, 8});
  EXPECT_EQ(ops::l2_distance(Y, Y, dy), 0.0);
  for (float g : dy.to_f32_vector()) EXPECT_EQ(g, 0.0f);
}

}  // namespace
}  // namespace gander::test
