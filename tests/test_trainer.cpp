// The training step around the gradients: which parameters train (patterns; a typo is an
// error), a non-finite loss or gradient stops before any weight moves, and bench-train runs.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "core/rng.h"
#include "models/registry.h"
#include "testdata.h"
#include "train/trainer.h"

namespace gander {
namespace {

std::unique_ptr<models::Decoder> small_rwkv7() { return models::trainable_random_model("rwkv7:L2,D64,V97", 3); }

struct Batch {
  std::vector<int32_t> ids, targets;
  models::TrainBatch view(int64_t B, int64_t T) const { return {ids, targets, B, T}; }
};
Batch counting(int64_t n, int32_t vocab) {
  Batch b;
  for (int64_t i = 0; i < n; ++i) b.ids.push_back(int32_t(i % vocab)), b.targets.push_back(int32_t((i + 1) % vocab));
  return b;
}

TEST(Trainer, FrozenParametersStayAndTheOthersMove) {
  auto m = small_rwkv7();
  train::TrainerConfig c;
  c.train = {"blocks.*.att.*"};
  c.freeze = {"blocks.1.att.w*"};
  train::Trainer t(*m, c, train::rwkv7_groups(0.1));
  std::vector<Tensor> before;
  for (const models::Param& p : m->params().params) before.push_back(p.slot->clone());
  const Batch b = counting(2 * 20, 97);
  const double l0 = t.step(b.view(2, 20)).loss;
  for (int i = 0; i < 4; ++i) t.step(b.view(2, 20));
  EXPECT_LT(t.step(b.view(2, 20)).loss, l0);
  const auto& params = m->params().params;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string& n = params[i].name;
    const bool trains = n.find(".att.") != std::string::npos && n.rfind("blocks.1.att.w", 0) != 0;
    EXPECT_EQ(test::max_diff(before[i], *params[i].slot) > 0, trains) << n;
  }
}

// RADLADS' two learning-rate groups: the mixers at their own rate (here 0: they stay), the rest
// at the main one.
TEST(Trainer, TheMixerGroupFollowsItsOwnLearningRate) {
  auto m = small_rwkv7();
  train::TrainerConfig c;
  c.adam.mixer_lr = 0.0;
  train::Trainer t(*m, c, train::rwkv7_groups(0.0, 2.0, {"blocks.*.att.*"}));
  std::vector<Tensor> before;
  for (const models::Param& p : m->params().params) before.push_back(p.slot->clone());
  const Batch b = counting(2 * 20, 97);
  for (int i = 0; i < 2; ++i) t.step(b.view(2, 20));
  const auto& params = m->params().params;
  for (size_t i = 0; i < params.size(); ++i) {
    const bool mixer = params[i].name.find(".att.") != std::string::npos;
    EXPECT_EQ(test::max_diff(before[i], *params[i].slot) > 0, !mixer) << params[i].name;
  }
}

TEST(Trainer, APatternThatMatchesNothingIsAnError) {
  auto m = small_rwkv7();
  train::TrainerConfig c;
  c.freeze = {"blocks.*.attn.*"};  // fla's spelling, not this model's
  const std::string msg = test::error_of([&] { train::Trainer(*m, c, nullptr); });
  EXPECT_NE(msg.find("'blocks.*.attn.*' (freeze) matches no parameter"), std::string::npos) << msg;
}

TEST(Trainer, ANonFiniteGradientStopsBeforeAnyWeightMoves) {
  auto m = small_rwkv7();
  train::Trainer t(*m, {}, nullptr);
  const models::Param& ln = m->params().params[1];  // ln0's weight
  ln.slot->data<float>()[5] = NAN;
  const Tensor before = m->params().params[0].slot->clone();
  const Batch b = counting(16, 97);
  const std::string msg = test::error_of([&] { t.step(b.view(1, 16)); });
  EXPECT_NE(msg.find("step 1: the loss is nan"), std::string::npos) << msg;
  EXPECT_EQ(test::max_diff(before, *m->params().params[0].slot), 0);
  models::Gradients g(m->params());
  g.by_index()[3].data<float>()[2] = INFINITY;
  const std::string msg2 = test::error_of([&] { train::check_finite(7, 1.0, g); });
  EXPECT_NE(msg2.find("step 7: the gradient of '" + m->params().params[3].name + "' is inf at element 2"),
            std::string::npos)
      << msg2;
}

TEST(Trainer, TrainStepRefusesTokensOutsideTheVocabularyAndMismatchedShapes) {
  auto m = small_rwkv7();
  models::make_master_weights(m->params());
  models::Gradients g(m->params());
  Batch b = counting(8, 97);
  b.ids[3] = 97;
  EXPECT_NE(test::error_of([&] { m->train_step(b.view(1, 8), g); }).find("token id 97 is outside the vocabulary"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { m->train_step(b.view(3, 8), g); }).find("8 ids and 8 targets for 3 sequences of 8"),
            std::string::npos);
}

// State tuning trains the initial state: its gradient (the WKV matrices and both shift vectors of
// every layer, summed over the sequences) is the derivative of the loss along it.
TEST(Trainer, TheInitialStateGradientIsTheDerivativeOfTheLoss) {
  auto m = small_rwkv7();
  models::make_master_weights(m->params());
  models::SequenceState s0 = m->new_state();
  Rng rng(4);
  for (size_t e = 0; e < s0.layout().entries().size(); ++e) {
    float* p = s0.at(e).data<float>();
    for (int64_t i = 0; i < s0.at(e).numel(); ++i) p[i] = float(0.3 * rng.normal());
  }
  const Batch b = counting(2 * 21, 97);
  models::TrainBatch tb = b.view(2, 21);
  tb.initial = &s0;
  models::Gradients frozen(m->params(), [](const models::Param&) { return false; });
  models::SequenceState d0 = m->new_state();
  m->train_step(tb, frozen, {}, &d0);
  for (size_t e = 0; e < d0.layout().entries().size(); ++e) {
    const Tensor& g = d0.at(e);
    double norm2 = 0;
    for (float v : g.to_f32_vector()) norm2 += double(v) * v;
    ASSERT_GT(norm2, 0) << d0.layout().entries()[e].name;
    const double h = 1e-2 / std::sqrt(norm2);
    auto loss_at = [&](double step) {
      models::SequenceState s = s0.clone();
      float* p = s.at(e).data<float>();
      const float* pg = g.data<float>();
      for (int64_t i = 0; i < g.numel(); ++i) p[i] += float(step * pg[i]);
      models::TrainBatch moved = tb;
      moved.initial = &s;
      return m->train_step(moved, frozen);
    };
    const double fd = (loss_at(h) - loss_at(-h)) / (2 * h);
    EXPECT_NEAR(fd / norm2, 1.0, 2e-2) << d0.layout().entries()[e].name;
  }
}

// Mixed precision: bf16 products (f32 accumulation and master weights) give the f32 loss and
// gradients to within bf16's rounding, every tensor, and the same weights after a step's update
// but for that rounding.
TEST(Trainer, Bf16ProductsStayCloseToF32) {
  for (const char* spec : {"rwkv7:L2,D64,V97", "qwen2:L2,D64,H2,KV1,I96,V97"}) {
    auto m = models::trainable_random_model(spec, 5);
    const Batch b = counting(2 * 33, 97);
    models::Gradients g32(m->params()), g16(m->params());
    models::TrainOptions o32, o16;
    o16.precision = ops::Precision::BF16;
    const double l32 = m->train_step(b.view(2, 33), g32, o32), l16 = m->train_step(b.view(2, 33), g16, o16);
    EXPECT_NEAR(l16, l32, 1e-2 * l32) << spec;
    EXPECT_NE(l16, l32) << spec << ": the bf16 path did not round anything";
    const auto& params = m->params().params;
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor &a = g32.by_index()[i], &c = g16.by_index()[i];
      double diff = 0, scale = 1e-12;
      const auto x = a.to_f32_vector(), y = c.to_f32_vector();
      for (size_t e = 0; e < x.size(); ++e) diff = std::max(diff, std::fabs(double(x[e]) - y[e])), scale = std::max(scale, std::fabs(double(x[e])));
      EXPECT_LE(diff / scale, 0.1) << spec << " " << params[i].name;
    }
  }
}

// Gradient accumulation: two micro-batches of one sequence each make the same update as one
// batch of both sequences.
TEST(Trainer, AccumulatedMicroBatchesMakeTheStepOfTheirUnion) {
  auto whole = small_rwkv7(), pieces = small_rwkv7();
  const Batch b = counting(2 * 24, 97);
  train::Trainer tw(*whole, {}, train::rwkv7_groups(0.1)), tp(*pieces, {}, train::rwkv7_groups(0.1));
  const auto half = [&](int64_t s) {
    return models::TrainBatch{std::span(b.ids).subspan(size_t(s * 24), 24), std::span(b.targets).subspan(size_t(s * 24), 24),
                              1, 24};
  };
  for (int step = 0; step < 2; ++step) {
    const double lw = tw.step(b.view(2, 24)).loss;
    const std::vector<models::TrainBatch> micro{half(0), half(1)};
    const double lp = tp.step(micro).loss;
    EXPECT_NEAR(lp, lw, 1e-6 * lw);
  }
  const auto &pw = whole->params().params, &pp = pieces->params().params;
  for (size_t i = 0; i < pw.size(); ++i) {
    const auto x = pw[i].slot->to_f32_vector(), y = pp[i].slot->to_f32_vector();
    double d = 0;
    for (size_t e = 0; e < x.size(); ++e) d = std::max(d, std::fabs(double(x[e]) - y[e]));
    EXPECT_LE(d, 2e-5) << pw[i].name;  // Adam moves near-zero gradients by up to lr whatever their rounding
  }
}

TEST(BenchTrain, ReportsTokensPerSecondAndTheShareOfThePeak) {
  const test::CliResult r = test::run_cli("bench-train --random rwkv7:L1,D64,V256 --seq 24 --batch 2 --steps 2 -t 1 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j.at("tokens_per_s").get<double>(), 0);
  EXPECT_GT(j.at("fraction_of_matmul_peak").get<double>(), 0);
  EXPECT_LT(j.at("loss_last").get<double>(), j.at("loss_first").get<double>());
  const test::CliResult no_tok = test::run_cli("bench-train --random rwkv7:L1,D64,V256 --seq 4 --text " GANDER_SOURCE_DIR "/README.md");
  EXPECT_NE(no_tok.code, 0);
  EXPECT_NE(no_tok.out.find("--text needs --tokenizer"), std::string::npos) << no_tok.out;
  const test::CliResult bad = test::run_cli("bench-train --random mamba:L1 --seq 4");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("unknown architecture"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace gander

namespace gander {
namespace {
// On text, in bf16: the windows of a file in order, every step's loss written out.
TEST(BenchTrain, TrainsOnTextWindowsAndWritesTheLosses) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  const std::string losses = ::testing::TempDir() + "/bench_train_losses.txt";
  const test::CliResult r = test::run_cli(
      "bench-train --random rwkv7:L1,D64,V65536 --seq 16 --batch 2 --steps 3 --warmup 1 -t 1 --precision bf16 --json "
      "--text " GANDER_SOURCE_DIR "/README.md --tokenizer " +
      test::testdata("rwkv7/tokenizer/rwkv_vocab_v20230424.txt") + " --losses-out " + losses);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("precision"), "bf16");
  std::ifstream in(losses);
  std::vector<double> l;
  for (double x; in >> x;) l.push_back(x);
  ASSERT_EQ(l.size(), 4u);
  for (double x : l) EXPECT_TRUE(std::isfinite(x) && x > 0);
}
}  // namespace
}  // namespace gander
