// RWKV-7 against the official implementation's golden vectors (../shared/testdata/rwkv7).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/rwkv7/model.h"
#include "ops/impl.h"
#include "testdata.h"

namespace gander::rwkv7 {
namespace {

constexpr double kTol = 5e-5;  // the README's bound for f32 math (official paths agree to 2e-6)

std::vector<int32_t> golden_ids(const std::string& model) {
  std::ifstream f(test::testdata("rwkv7/" + model + "/ids.json"));
  return nlohmann::json::parse(f)["ids"].get<std::vector<int32_t>>();
}

Tensor golden(const std::string& model, const std::string& file) {
  return io::load_npy(test::testdata("rwkv7/" + model + "/" + file));
}

double max_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.numel(), b.numel());
  const std::vector<float> x = a.to_f32_vector(), y = b.to_f32_vector();
  double d = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) d = std::max(d, std::fabs(double(x[i]) - y[i]));
  return d;
}

// Stacks per-layer state tensors into the golden layout [L, ...].
Tensor stack(const std::vector<Tensor>& parts) {
  Shape s = parts[0].shape();
  s.insert(s.begin(), int64_t(parts.size()));
  Tensor out = Tensor::empty(DType::F32, s);
  for (size_t i = 0; i < parts.size(); ++i) out.row(int64_t(i)).copy_from(parts[i]);
  return out;
}

void expect_state(const State& s, const std::string& model, const std::string& prefix) {
  EXPECT_LE(max_diff(stack(s.att_shift), golden(model, prefix + "att_shift.npy")), kTol) << prefix << "att_shift";
  EXPECT_LE(max_diff(stack(s.wkv), golden(model, prefix + "wkv.npy")), kTol) << prefix << "wkv";
  EXPECT_LE(max_diff(stack(s.ffn_shift), golden(model, prefix + "ffn_shift.npy")), kTol) << prefix << "ffn_shift";
}

State golden_state(const Config& c, const std::string& model, const std::string& prefix) {
  State s = State::zeros(c);
  const Tensor att = golden(model, prefix + "att_shift.npy"), wkv = golden(model, prefix + "wkv.npy");
  const Tensor ffn = golden(model, prefix + "ffn_shift.npy");
  for (int64_t l = 0; l < c.n_layer; ++l) {
    s.att_shift[size_t(l)].copy_from(att.row(l));
    s.wkv[size_t(l)].copy_from(wkv.row(l));
    s.ffn_shift[size_t(l)].copy_from(ffn.row(l));
  }
  return s;
}

struct Param {
  std::string model, file;
};

class Rwkv7Golden : public testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    const std::string rel = "rwkv7/" + GetParam().model + "/" + GetParam().file;
    if (!std::filesystem::exists(test::testdata(rel))) GTEST_SKIP() << "test data not found: " << test::testdata(rel);
    model_ = std::make_unique<Model>(load_weights(io::load_checkpoint(test::testdata(rel))));
    ids_ = golden_ids(GetParam().model);
  }
  std::unique_ptr<Model> model_;
  std::vector<int32_t> ids_;
};

TEST_P(Rwkv7Golden, RecurrentStepMatchesRnnMode) {
  const std::string& m = GetParam().model;
  State s = State::zeros(model_->config());
  Tensor all = Tensor::empty(DType::F32, {int64_t(ids_.size()), model_->config().vocab}), one;
  for (size_t t = 0; t < ids_.size(); ++t) {
    model_->forward(std::span(ids_).subspan(t, 1), s, one);
    all.row(int64_t(t)).copy_from(one.row(0));
  }
  EXPECT_LE(max_diff(all, golden(m, "logits_rnn.npy")), kTol);
  expect_state(s, m, "state_");
}

TEST_P(Rwkv7Golden, ChunkedPrefillMatchesRnnMode) {
  const std::string& m = GetParam().model;
  for (int64_t chunk : {64, 7}) {
    model_->options().chunk = chunk;
    State s = State::zeros(model_->config());
    Tensor logits;
    model_->forward(ids_, s, logits, /*all_logits=*/true);
    EXPECT_LE(max_diff(logits, golden(m, "logits_rnn.npy")), kTol) << "chunk " << chunk;
    expect_state(s, m, "state_");
  }
}

TEST_P(Rwkv7Golden, SplitRunContinuesFromTheState) {
  const std::string& m = GetParam().model;
  State s = State::zeros(model_->config());
  Tensor first, second;
  model_->forward(std::span(ids_).subspan(0, 40), s, first, true);
  expect_state(s, m, "split_state1_");
  model_->forward(std::span(ids_).subspan(40), s, second, true);
  const Tensor want = golden(m, "split_logits.npy");
  EXPECT_LE(max_diff(first, want.rows(0, 40)), kTol);
  EXPECT_LE(max_diff(second, want.rows(40, 24)), kTol);
}

TEST_P(Rwkv7Golden, StartsFromAGivenState) {
  const std::string& m = GetParam().model;
  State s = golden_state(model_->config(), m, "initstate_");
  Tensor logits;
  model_->forward(ids_, s, logits, true);
  EXPECT_LE(max_diff(logits, golden(m, "initstate_logits_rnn.npy")), kTol);
  expect_state(s, m, "initstate_final_");
}

TEST_P(Rwkv7Golden, HiddenStatesMatch) {
  State s = State::zeros(model_->config());
  Tensor hidden;
  model_->forward_hidden(ids_, s, hidden);
  EXPECT_LE(max_diff(hidden, golden(GetParam().model, "hidden_rnn.npy")), kTol);
}

TEST_P(Rwkv7Golden, ReferenceKernelsAgree) {
  ops::set_impl(ops::Impl::Reference);
  State s = State::zeros(model_->config());
  Tensor logits;
  model_->forward(ids_, s, logits, true);
  ops::set_impl(ops::Impl::Fast);
  EXPECT_LE(max_diff(logits, golden(GetParam().model, "logits_rnn.npy")), kTol);
}

TEST_P(Rwkv7Golden, BF16MatmulsStayWithinTheBf16Tolerance) {
  model_->options().precision = ops::Precision::BF16;
  State s = State::zeros(model_->config());
  Tensor logits;
  model_->forward(ids_, s, logits, true);
  const Tensor want = golden(GetParam().model, "logits_rnn.npy");
  EXPECT_LE(max_diff(logits, want), 0.15);
  const std::vector<float> a = logits.to_f32_vector(), b = want.to_f32_vector();
  double ss = 0;
  for (size_t i = 0; i < a.size(); ++i) ss += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  EXPECT_LE(std::sqrt(ss / double(a.size())), 0.02);
  EXPECT_LE(max_diff(stack(s.wkv), golden(GetParam().model, "state_wkv.npy")), 0.05);
}

INSTANTIATE_TEST_SUITE_P(Files, Rwkv7Golden,
                         testing::Values(Param{"tiny", "model_f32.pth"}, Param{"tiny", "model_bf16.pth"},
                                         Param{"tiny", "model_f32.safetensors"}, Param{"small", "model_bf16.pth"},
                                         Param{"small", "model_f32.safetensors"}),
                         [](const auto& info) {
                           std::string n = info.param.model + "_" + info.param.file;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace gander::rwkv7
