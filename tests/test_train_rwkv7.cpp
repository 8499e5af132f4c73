// RWKV-7 training against the official code (../shared/testdata/rwkv7-train, README there): the
// loss and the gradient of every parameter of the tiny model, with and without L2Wrap, and three
// AdamW steps with the official groups, one learning rate, and clipping.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "models/rwkv7/model.h"
#include "testdata.h"
#include "train/adamw.h"

namespace gander {
namespace {

std::string train_dir(const std::string& rel) { return test::testdata("rwkv7-train/" + rel); }

struct Batch {
  std::vector<int32_t> ids, targets;
};
Batch golden_batch() {
  std::ifstream f(train_dir("batch.json"));
  const auto j = nlohmann::json::parse(f);
  Batch b;
  for (const auto& row : j.at("input_ids")) for (int32_t v : row) b.ids.push_back(v);
  for (const auto& row : j.at("targets")) for (int32_t v : row) b.targets.push_back(v);
  return b;
}
nlohmann::json results() {
  std::ifstream f(train_dir("results.json"));
  return nlohmann::json::parse(f);
}

std::unique_ptr<models::Decoder> trainable_tiny() {
  std::unique_ptr<models::Decoder> d = rwkv7::read(io::load_checkpoint(test::testdata("rwkv7/tiny/model_f32.pth")));
  models::make_master_weights(d->params());
  return d;
}

// A held tensor (parameter or gradient) as the official file stores parameter p.
Tensor official_form(const models::Param& p, const Tensor& held) {
  models::Param q = p;
  q.slot = const_cast<Tensor*>(&held);
  return models::to_stored(q, models::Naming::RwkvLm, nullptr);
}

// max over the tensor of |got - want|, and the largest |want|.
std::pair<double, double> diff_and_scale(const Tensor& got, const Tensor& want) {
  const auto g = got.to_f32_vector(), w = want.to_f32_vector();
  EXPECT_EQ(g.size(), w.size());
  double d = 0, m = 0;
  for (size_t i = 0; i < g.size() && i < w.size(); ++i) {
    d = std::max(d, std::fabs(double(g[i]) - w[i]));
    m = std::max(m, std::fabs(double(w[i])));
  }
  return {d, m};
}

class Rwkv7Train : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(train_dir("batch.json")) ||
        !std::filesystem::exists(test::testdata("rwkv7/tiny/model_f32.pth")))
      GTEST_SKIP() << "test data not found: " << train_dir("") << " (set GANDER_TESTDATA)";
    model_ = trainable_tiny();
    batch_ = golden_batch();
  }
  models::TrainBatch batch() const { return {batch_.ids, batch_.targets, 2, 32}; }
  // Every gradient within tol x (its tensor's largest value) + 1e-8 of the folder's.
  void expect_gradients(const models::Gradients& g, const std::string& folder, double tol) {
    double worst = 0;
    std::string worst_name;
    const auto& params = model_->params().params;
    for (size_t i = 0; i < params.size(); ++i) {
      const models::Param& p = params[i];
      const Tensor want = io::load_npy(train_dir(folder + "/" + p.name + ".npy"));
      const auto [d, m] = diff_and_scale(official_form(p, g.by_index()[i]), want);
      const double rel = d / (m + 1e-8 / tol);
      if (rel > worst) worst = rel, worst_name = p.name;
      EXPECT_LE(d, tol * m + 1e-8) << folder << "/" << p.name;
    }
    RecordProperty(folder + "_worst_relative", std::to_string(worst) + " (" + worst_name + ")");
  }
  std::unique_ptr<models::Decoder> model_;
  Batch batch_;
};

TEST_F(Rwkv7Train, LossAndEveryGradientMatchTheOfficialTrainer) {
  models::Gradients g(model_->params());
  const double loss = model_->train_step(batch(), g);
  EXPECT_NEAR(loss, results().at("loss").get<double>(), 1e-5);
  EXPECT_NEAR(g.global_norm(), results().at("grad_global_l2_norm").get<double>(), 1e-5);
  expect_gradients(g, "grads", 1e-5);
}

TEST_F(Rwkv7Train, L2WrapAddsTheOfficialLogitGradient) {
  models::Gradients g(model_->params());
  const double loss = model_->train_step(batch(), g, {.l2wrap = 1e-4f});
  EXPECT_NEAR(loss, results().at("loss_l2wrap").get<double>(), 1e-5);
  expect_gradients(g, "grads_l2wrap", 1e-5);
}

TEST_F(Rwkv7Train, TwoSequencesGiveTheGradientsOfEachAlone) {
  models::Gradients both(model_->params()), one(model_->params());
  model_->train_step(batch(), both);
  for (int s = 0; s < 2; ++s) {
    // Each alone is the mean over its 32 tokens: half of the pair's mean each.
    models::TrainBatch b{std::span(batch_.ids).subspan(size_t(s * 32), 32),
                         std::span(batch_.targets).subspan(size_t(s * 32), 32), 1, 32};
    model_->train_step(b, one);
  }
  one.scale(0.5);
  for (size_t i = 0; i < both.by_index().size(); ++i) {
    const auto [d, m] = diff_and_scale(one.by_index()[i], both.by_index()[i]);
    EXPECT_LE(d, 1e-5 * m + 1e-9) << model_->params().params[i].name;
  }
}

// Three AdamW steps on the same batch (lr 1e-3, betas 0.9/0.99, eps 1e-8, decay 0.1).
void three_steps(models::Decoder& m, const models::TrainBatch& b, double w0_scale, double clip,
                 std::vector<double>& losses) {
  models::Gradients g(m.params());
  train::AdamW opt(g, {1e-3, 0.9, 0.99, 1e-8}, train::rwkv7_groups(0.1, w0_scale));
  for (int step = 0; step < 3; ++step) {
    g.zero();
    losses.push_back(m.train_step(b, g));
    if (clip > 0) train::clip_global_norm(g, clip);
    opt.step(g);
  }
  models::Gradients last(m.params());
  losses.push_back(m.train_step(b, last));
}

struct Trajectory {
  const char* folder;
  const char* losses;
  double w0_scale, clip;
};

class Rwkv7AdamW : public Rwkv7Train, public testing::WithParamInterface<Trajectory> {};

TEST_P(Rwkv7AdamW, ThreeStepsReachTheOfficialParameters) {
  const Trajectory& tr = GetParam();
  std::vector<double> losses;
  three_steps(*model_, batch(), tr.w0_scale, tr.clip, losses);
  const auto want = results().at(tr.losses).get<std::vector<double>>();
  ASSERT_EQ(want.size(), losses.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(losses[i], want[i], 1e-5) << "loss after step " << i;
  double worst = 0;
  for (const models::Param& p : model_->params().params) {
    const Tensor want_p = io::load_npy(train_dir(std::string(tr.folder) + "/" + p.name + ".npy"));
    const auto [d, m] = diff_and_scale(official_form(p, *p.slot), want_p);
    worst = std::max(worst, d);
    // (Adam divides by sqrt(v): an element whose gradient is at rounding-noise level moves by
    // up to lr per step whatever its sign; the README's bound.)
    EXPECT_LE(d, 2e-4) << tr.folder << "/" << p.name;
  }
  RecordProperty("worst_abs", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(
    Official, Rwkv7AdamW,
    testing::Values(Trajectory{"params_after_3_steps", "losses_official", 2.0, 0},
                    Trajectory{"params_after_3_steps_uniform_lr", "losses_uniform_lr", 1.0, 0},
                    Trajectory{"params_after_3_steps_clip1", "losses_clip1", 2.0, 1.0}),
    [](const testing::TestParamInfo<Trajectory>& i) { return std::string(i.param.folder); });

TEST_F(Rwkv7Train, TheOfficialGroupsDecayExactlyTheFourteenMatrices) {
  models::Gradients g(model_->params());
  const train::Grouping groups = train::rwkv7_groups(0.1);
  int decayed = 0, doubled = 0;
  for (const models::Param& p : model_->params().params) {
    const train::ParamGroup pg = groups(p);
    decayed += pg.weight_decay > 0;
    doubled += pg.lr_scale == 2.0;
  }
  EXPECT_EQ(decayed, 14);
  EXPECT_EQ(doubled, 2);
}

}  // namespace
}  // namespace gander
