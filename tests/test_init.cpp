// The inits of a training run from scratch: orthogonal matrices are orthogonal (and the same on
// any thread count), RWKV-7's per-channel vectors follow the official formulas (spec rwkv7.md
// §5.1, written out again here from the spec, not from the model code), Qwen2's are transformers'.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "core/random_fill.h"
#include "core/threads.h"
#include "models/registry.h"

namespace gander {
namespace {

// max |W W^T - gain^2 I| over the rows (wide) or |W^T W - gain^2 I| over the columns (tall).
double orthogonality_error(const Tensor& w, double gain) {
  const int64_t r = w.dim(0), c = w.dim(1);
  const bool tall = r >= c;
  const int64_t n = tall ? c : r, m = tall ? r : c;
  const float* p = w.data<float>();
  auto at = [&](int64_t vec, int64_t k) { return double(tall ? p[k * c + vec] : p[vec * c + k]); };
  double err = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double d = 0;
      for (int64_t k = 0; k < m; ++k) d += at(i, k) * at(j, k);
      err = std::max(err, std::abs(d - (i == j ? gain * gain : 0.0)));
    }
  return err;
}

TEST(Init, OrthogonalMatricesAreOrthogonalTimesTheGainInEitherOrientation) {
  for (auto [r, c] : {std::pair<int64_t, int64_t>{37, 11}, {11, 37}, {64, 64}, {1, 9}, {300, 129}}) {
    const Tensor w = random_orthogonal({r, c}, 0.7f, 5);
    EXPECT_LT(orthogonality_error(w, 0.7), 1e-5) << r << "x" << c;
  }
}

TEST(Init, OrthogonalMatricesAreTheSameOnAnyThreadCount) {
  const int before = num_threads();
  set_num_threads(1);
  const Tensor a = random_orthogonal({2000, 300}, 1.0f, 9);
  set_num_threads(2);
  const Tensor b = random_orthogonal({2000, 300}, 1.0f, 9);
  set_num_threads(before);
  EXPECT_EQ(0, std::memcmp(a.data<float>(), b.data<float>(), size_t(a.numel()) * 4));
  const Tensor other = random_orthogonal({2000, 300}, 1.0f, 10);
  EXPECT_NE(0, std::memcmp(a.data<float>(), other.data<float>(), size_t(a.numel()) * 4));
}

std::map<std::string, const Tensor*> by_name(const models::Decoder& d) {
  std::map<std::string, const Tensor*> m;
  for (const models::Param& p : d.params().params) m[p.name] = p.slot;
  return m;
}

TEST(Init, Rwkv7FromScratchFollowsTheOfficialInit) {
  const int64_t L = 4, C = 128, V = 500, N = 64;
  auto d = models::trainable_random_model("rwkv7:L4,D128,V500", 1, models::InitSet::Fresh);
  auto t = by_name(*d);
  auto vec = [&](const std::string& name, int64_t n) { return double(t.at(name)->data<float>()[n]); };
  for (int64_t l = 0; l < L; ++l) {
    const std::string a = "blocks." + std::to_string(l) + ".att.", f = "blocks." + std::to_string(l) + ".ffn.";
    const double r0 = double(l) / double(L - 1), r1 = 1.0 - double(l) / double(L);
    for (int64_t n : {0, 1, 63, 64, 100, 127}) {
      const double ddd = double(n) / double(C), lin = double(n) / double(C - 1) - 0.5;
      const double z = (double(n % N) - 31.5) / 31.5, zig = z * std::abs(z);
      EXPECT_NEAR(vec(a + "x_r", n), 1 - std::pow(ddd, 0.2 * r1), 1e-6) << a << n;
      EXPECT_NEAR(vec(a + "x_w", n), 1 - std::pow(ddd, 0.9 * r1), 1e-6);
      EXPECT_NEAR(vec(a + "x_k", n), 1 - std::pow(ddd, 0.7 * r1), 1e-6);
      EXPECT_NEAR(vec(a + "x_v", n), 1 - std::pow(ddd, 0.7 * r1), 1e-6);
      EXPECT_NEAR(vec(a + "x_a", n), 1 - std::pow(ddd, 0.9 * r1), 1e-6);
      EXPECT_NEAR(vec(a + "x_g", n), 1 - std::pow(ddd, 0.2 * r1), 1e-6);
      EXPECT_NEAR(vec(a + "w0", n), -6 + 6 * std::pow(double(n) / double(C - 1), 1 + std::pow(r0, 0.3)) + 0.5 + 2.5 * zig,
                  1e-5);
      EXPECT_NEAR(vec(a + "a0", n), -0.19 + 0.3 * zig + 0.4 * lin, 1e-6);
      if (l > 0) {
        EXPECT_NEAR(vec(a + "v0", n), 0.73 - 0.4 * lin, 1e-6);
      }
      EXPECT_NEAR(vec(a + "k_k", n), 0.71 - 0.1 * lin, 1e-6);
      EXPECT_FLOAT_EQ(float(vec(a + "k_a", n)), 1.02f);
      EXPECT_FLOAT_EQ(float(vec(a + "r_k", n)), -0.04f);
      EXPECT_NEAR(vec(a + "ln_x.weight", n), std::pow(double(l + 1) / double(L), 0.7), 1e-6);
      EXPECT_EQ(vec(a + "ln_x.bias", n), 0.0);
      EXPECT_NEAR(vec(f + "x_k", n), 1 - std::pow(ddd, std::pow(r1, 4)), 1e-6);
    }
    for (const char* zero : {"w1", "a1", "g1", "output.weight"}) {
      const Tensor& z = *t.at(a + zero);
      for (int64_t i = 0; i < z.numel(); ++i) ASSERT_EQ(z.data<float>()[i], 0.0f) << a << zero;
    }
    const Tensor& fv = *t.at(f + "value.weight");
    for (int64_t i = 0; i < fv.numel(); ++i) ASSERT_EQ(fv.data<float>()[i], 0.0f);
    EXPECT_LT(orthogonality_error(*t.at(a + "receptance.weight"), 1.0), 1e-5);
    EXPECT_LT(orthogonality_error(*t.at(a + "key.weight"), 0.1), 1e-6);
    EXPECT_LT(orthogonality_error(*t.at(a + "value.weight"), 1.0), 1e-5);
    EXPECT_LT(orthogonality_error(*t.at(f + "key.weight"), 2.0), 1e-5);  // [4C, C]: gain sqrt(4)
    EXPECT_LT(orthogonality_error(*t.at(a + "w2"), 0.1), 1e-6);
  }
  EXPECT_LT(orthogonality_error(*t.at("head.weight"), 0.5 * std::sqrt(double(V) / double(C))), 1e-4);
  const Tensor& emb = *t.at("emb.weight");
  for (int64_t i = 0; i < emb.numel(); ++i) ASSERT_LE(std::abs(emb.data<float>()[i]), 1e-4f);
  EXPECT_EQ(vec("blocks.0.ln0.weight", 5), 1.0);
  EXPECT_EQ(vec("blocks.0.ln0.bias", 5), 0.0);
}

TEST(Init, Qwen2FromScratchHasZeroBiasesUnitNormsAndSmallMatrices) {
  auto d = models::trainable_random_model("qwen2:L2,D64,H2,KV1,I96,V300", 1, models::InitSet::Fresh);
  for (const models::Param& p : d->params().params) {
    const float* v = p.slot->data<float>();
    const int64_t n = p.slot->numel();
    if (p.name.ends_with("bias")) {
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(v[i], 0.0f) << p.name;
    } else if (p.name.ends_with("norm.weight")) {
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(v[i], 1.0f) << p.name;
    } else {
      double sq = 0;
      for (int64_t i = 0; i < n; ++i) sq += double(v[i]) * v[i];
      EXPECT_NEAR(std::sqrt(sq / double(n)), 0.02, 0.002) << p.name;
    }
  }
}

}  // namespace
}  // namespace gander
