// What the op registry's gradient checks (tests/grad_cases*.cpp) do not cover: the bf16 product's
// rounding, and the losses' edge cases and refusals.
#include <gtest/gtest.h>

#include "grad_check.h"
#include "ops/gla.h"
#include "ops/loss.h"
#include "ops/matmul.h"

namespace gander::test {
namespace {

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

TEST(Grad, L2DistanceOfARowEqualToItsTargetIsZeroNotNaN) {
  Rng rng(24);
  Tensor Y = random_tensor_like(rng, {2, 8}), dy = zeros({2, 8});
  EXPECT_EQ(ops::l2_distance(Y, Y, dy), 0.0);
  for (float g : dy.to_f32_vector()) EXPECT_EQ(g, 0.0f);
}

TEST(Grad, GlaRefusesAStateOfAnotherSize) {
  const Tensor r = zeros({3, 32});
  Tensor y = zeros({3, 32}), s = zeros({1, 16, 16});
  EXPECT_THROW(ops::gla({r, r, r, r}, s, y), Error);
}

}  // namespace
}  // namespace gander::test
