// Walks the op-test registry: every op's fast implementation against its reference, and every
// backward against finite differences and its reference, over each op's grids of sizes, with
// fresh random inputs per size.
#include <gtest/gtest.h>

#include "op_registry.h"
#include "core/error.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/tiles.h"
#include "ops/wkv7.h"
#include "testdata.h"

#include <set>

namespace gander::test {
namespace {

struct Param {
  size_t op;
  size_t shape;
};

const std::vector<Sizes>& grid_of(const OpCase& c, bool gradient) { return gradient ? c.gradient.grid : c.grid; }

std::vector<Param> all_params(bool gradient) {
  std::vector<Param> out;
  for (size_t i = 0; i < op_registry().size(); ++i)
    for (size_t j = 0; j < grid_of(op_registry()[i], gradient).size(); ++j) out.push_back({i, j});
  return out;
}

template <bool gradient>
std::string param_name(const testing::TestParamInfo<Param>& info) {
  const OpCase& c = op_registry()[info.param.op];
  std::string name = c.name;
  for (int64_t s : grid_of(c, gradient)[info.param.shape]) name.append("_").append(std::to_string(s));  // (operator+ trips GCC 12's -Wrestrict)
  return name;
}

class OpForward : public testing::TestWithParam<Param> {};

TEST_P(OpForward, FastMatchesReference) {
  const OpCase& c = op_registry()[GetParam().op];
  const Sizes& sizes = c.grid[GetParam().shape];
  Rng rng(1000 + GetParam().op * 100 + GetParam().shape);
  const OpComparison cmp = c.forward(sizes, rng);
  const double rel = cmp.max_abs_diff / std::max(cmp.ref_scale, 1e-30);
  EXPECT_LE(rel, cmp.tolerance) << c.name << ": max |fast - ref| = " << cmp.max_abs_diff << " against max |ref| "
                                << cmp.ref_scale;
}

INSTANTIATE_TEST_SUITE_P(Registry, OpForward, testing::ValuesIn(all_params(false)), param_name<false>);

class OpGradient : public testing::TestWithParam<Param> {};

TEST_P(OpGradient, MatchesDifferencesAndReference) {
  const OpCase& c = op_registry()[GetParam().op];
  const Sizes& sizes = c.gradient.grid[GetParam().shape];
  Rng rng(5000 + GetParam().op * 100 + GetParam().shape);
  const std::vector<GradCheck> checks = c.gradient.check(sizes, rng);
  EXPECT_FALSE(checks.empty());
  for (const GradCheck& k : checks)
    EXPECT_LE(k.error, k.tolerance) << c.name << ", " << k.what << (k.where.empty() ? "" : ": ") << k.where;
}

INSTANTIATE_TEST_SUITE_P(Registry, OpGradient, testing::ValuesIn(all_params(true)), param_name<true>);

TEST(OpRegistry, CoversEveryOp) {
  std::set<std::string> names;
  for (const OpCase& c : op_registry()) names.insert(c.name);
  for (const char* want : {"linear_wf32_f32", "linear_wbf16_f32", "linear_wf16_f32", "linear_wbf16_bf16", "group_norm",
                           "rms_norm", "l2_norm_groups", "lerp", "softmax", "rope", "attention", "wkv7"})
    EXPECT_TRUE(names.count(want)) << "registry lacks " << want;
  // Every backward the training forward uses has a gradient check.
  std::set<std::string> with_gradient;
  for (const OpCase& c : op_registry())
    if (!c.gradient.grid.empty()) with_gradient.insert(c.name);
  for (const char* want : {"linear_backward", "activation_tanh", "activation_sigmoid", "activation_exp",
                           "activation_softplus", "activation_relu_squared", "activation_silu", "lerp", "group_norm", "rms_norm",
                           "rope", "attention", "wkv7", "wkv7_prepare", "wkv7_prepare_balanced", "wkv7_output",
                           "wkv7_output_scaled_no_bonus", "repeat_heads", "gla", "cross_entropy_head",
                           "kl_divergence_head", "l2_distance"})
    EXPECT_TRUE(with_gradient.count(want)) << "no gradient check for " << want;
}

TEST(Embedding, LooksUpAndWidensRows) {
  Rng rng(7);
  Tensor table = random_tensor(rng, {10, 6}, 1.0f, DType::BF16);
  std::vector<int32_t> ids = {3, 0, 9, 3};
  Tensor out = Tensor::empty(DType::F32, {4, 6});
  ops::embedding(table, ids, out);
  const std::vector<float> all = table.to_f32_vector();
  for (size_t t = 0; t < ids.size(); ++t)
    for (int c = 0; c < 6; ++c) EXPECT_EQ(out.data<float>()[t * 6 + c], all[size_t(ids[t]) * 6 + c]);
}

TEST(Embedding, LooksUpRowsOfATiledTable) {
  Rng rng(8);
  for (DType dt : {DType::BF16, DType::F32}) {
    Tensor table = random_tensor(rng, {37, 40}, 1.0f, dt);
    const std::vector<float> all = table.to_f32_vector();
    std::vector<int32_t> ids = {36, 0, 17, 16, 15};
    Tensor out = Tensor::empty(DType::F32, {5, 40});
    ops::embedding(ops::tile_matrix(table), ids, out);
    for (size_t t = 0; t < ids.size(); ++t)
      for (int c = 0; c < 40; ++c) EXPECT_EQ(out.data<float>()[t * 40 + c], all[size_t(ids[t]) * 40 + c]);
  }
}

TEST(Tiles, KeepEveryElementAndZeroThePadding) {
  Rng rng(9);
  for (const auto& [N, K] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {16, 32}, {17, 33}, {50, 100}}) {
    Tensor W = random_tensor(rng, {N, K}, 1.0f, DType::BF16);
    const Tensor T = ops::tile_matrix(W);
    EXPECT_EQ(T.layout(), Layout::Tiles);
    std::vector<float> back(size_t(N * K));
    ops::unpack_tile_rows(static_cast<const uint16_t*>(T.storage()), K, 0, N, back.data());
    EXPECT_EQ(back, W.to_f32_vector());
    // Every stored value is either an element or padding zero, each element stored once.
    int64_t nonzero = 0;
    const auto* p = static_cast<const uint16_t*>(T.storage());
    for (int64_t i = 0; i < ops::tiled_elems(N, K); ++i) nonzero += p[i] != 0;
    int64_t want = 0;
    for (float v : W.to_f32_vector()) want += v != 0.0f;
    EXPECT_EQ(nonzero, want);
  }
}

TEST(Tiles, F32KeepEveryElementAndZeroThePadding) {
  Rng rng(11);
  for (const auto& [N, K] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {16, 16}, {17, 33}, {50, 100}}) {
    Tensor W = random_tensor(rng, {N, K});
    const Tensor T = ops::tile_matrix(W);
    EXPECT_EQ(T.layout(), Layout::Tiles);
    EXPECT_EQ(T.describe(), concat("f32[", N, ", ", K, "] in tiles"));
    std::vector<float> back(size_t(N * K));
    ops::matrix_rows(T, 0, N, back.data());
    EXPECT_EQ(back, W.to_f32_vector());
    const auto* p = static_cast<const float*>(T.storage());
    int64_t nonzero = 0;
    for (int64_t i = 0; i < ops::tiled_elems_f32(N, K); ++i) nonzero += p[i] != 0.0f;
    int64_t want = 0;
    for (float v : W.to_f32_vector()) want += v != 0.0f;
    EXPECT_EQ(nonzero, want);
    for (int64_t n = 0; n < N; ++n) EXPECT_EQ(ops::matrix_at(T, n, K - 1), W.data<float>()[n * K + K - 1]);
  }
}

TEST(Tiles, RowMajorUseOfATiledTensorIsRefused) {
  Rng rng(10);
  const Tensor T = ops::tile_matrix(random_tensor(rng, {20, 40}, 1.0f, DType::BF16));
  EXPECT_EQ(T.describe(), "bf16[20, 40] in tiles");
  EXPECT_NE(test::error_of([&] { (void)T.raw(); }).find("not in row-major order"), std::string::npos);
  EXPECT_THROW((void)T.rows(0, 1), Error);
  EXPECT_THROW((void)T.to_f32_vector(), Error);
  // Only bf16 and f32 row-major matrices can be tiled.
  EXPECT_THROW((void)ops::tile_matrix(random_tensor(rng, {4, 4}, 1.0f, DType::F16)), Error);
  EXPECT_THROW((void)ops::tile_matrix(random_tensor(rng, {4})), Error);
  EXPECT_THROW((void)ops::tile_matrix(T), Error);
}

TEST(Embedding, RejectsOutOfRangeIds) {
  Tensor table = Tensor::zeros(DType::F32, {10, 4});
  Tensor out = Tensor::empty(DType::F32, {1, 4});
  std::vector<int32_t> bad = {10};
  EXPECT_THROW(ops::embedding(table, bad, out), Error);
  bad = {-1};
  EXPECT_THROW(ops::embedding(table, bad, out), Error);
}

// The reference of a fused product is, by definition, the separate ops in a row.
TEST(Linear, FusionsGiveTheSeparateOps) {
  Rng rng(7);
  const int64_t R = 6, K = 24, N = 10;
  Tensor x = random_tensor(rng, {R, K}), shifted = random_tensor(rng, {R, K}), mix = random_tensor(rng, {K});
  Tensor W = random_tensor(rng, {N, K}), bias = random_tensor(rng, {N}), residual = random_tensor(rng, {R, N});
  Tensor mixed = Tensor::empty(DType::F32, {R, K}), plain = Tensor::empty(DType::F32, {R, N});
  ops::ref::lerp(x, shifted, mix, mixed);
  ops::ref::linear(mixed, W, &bias, plain);

  Tensor fused = Tensor::empty(DType::F32, {R, N}), separate = Tensor::empty(DType::F32, {R, N});
  ops::ref::activation(ops::Act::Sigmoid, plain, separate);
  ops::ref::linear(ops::LinearJob{x, W, &bias, fused, ops::Act::Sigmoid, false, &shifted, &mix});
  EXPECT_EQ(fused.to_f32_vector(), separate.to_f32_vector());

  fused.copy_from(residual);
  ops::add(residual, plain, separate);
  ops::ref::linear(ops::LinearJob{x, W, &bias, fused, {}, true, &shifted, &mix});
  EXPECT_EQ(fused.to_f32_vector(), separate.to_f32_vector());

  EXPECT_THROW(ops::linear(ops::LinearJob{x, W, &bias, fused, ops::Act::Tanh, true}), Error);
  EXPECT_THROW(ops::linear(ops::LinearJob{x, W, &bias, fused, {}, false, &shifted, nullptr}), Error);
  Tensor short_mix = random_tensor(rng, {K - 1});
  EXPECT_THROW(ops::linear(ops::LinearJob{x, W, &bias, fused, {}, false, &shifted, &short_mix}), Error);
}

TEST(Wkv7Output, MismatchedInputsAreErrors) {
  Rng rng(3);
  Tensor y = random_tensor(rng, {2, 128}), r = random_tensor(rng, {2, 128}), g = random_tensor(rng, {2, 128});
  Tensor w = random_tensor(rng, {128}), short_row = random_tensor(rng, {2, 96}), short_vec = random_tensor(rng, {96});
  Tensor out = Tensor::empty(DType::F32, {2, 128});
  const auto error = [&](const ops::Wkv7Output& o, int64_t N) { return test::error_of([&] { ops::wkv7_output(o, N, out); }); };
  EXPECT_NE(error({y, r, r, short_row, g, &w, &w, &w, 64e-5f}, 64).find("shapes differ"), std::string::npos);
  EXPECT_NE(error({y, r, r, r, g, &w, &w, &short_vec, 64e-5f}, 64).find("'r_k' must have 128 elements"), std::string::npos);
  EXPECT_NE(error({y, r, r, r, g, &w, &w, &w, 64e-5f}, 48).find("not a multiple of the head size 48"), std::string::npos);
  EXPECT_NE(error({y, r, r, r, g, &w, nullptr, &w, 64e-5f}, 64).find("come together"), std::string::npos);
}

TEST(OpChecks, ShapeMismatchIsAnError) {
  Tensor x = Tensor::zeros(DType::F32, {2, 8}), W = Tensor::zeros(DType::F32, {3, 7}), y = Tensor::empty(DType::F32, {2, 3});
  try {
    ops::linear(x, W, nullptr, y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gander::test
