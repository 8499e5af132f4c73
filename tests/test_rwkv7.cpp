// RWKV-7 against the official implementation's golden vectors (../shared/testdata/rwkv7).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/context.h"
#include "models/rwkv7/model.h"
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

// Stacks one kind of per-layer state tensor ("wkv", "att_shift", "ffn_shift") into the golden
// layout [L, ...].
Tensor stack(const models::SequenceState& s, const char* entry) {
  int64_t L = 0;
  for (const auto& e : s.layout().entries()) L += e.name.ends_with(std::string(".") + entry);
  Shape shape = s.get(state_name(0, entry)).shape();
  shape.insert(shape.begin(), L);
  Tensor out = Tensor::empty(DType::F32, shape);
  for (int64_t l = 0; l < L; ++l) out.row(l).copy_from(s.get(state_name(l, entry)));
  return out;
}

void expect_state(const models::SequenceState& s, const std::string& model, const std::string& prefix) {
  for (const char* entry : {"att_shift", "wkv", "ffn_shift"})
    EXPECT_LE(max_diff(stack(s, entry), golden(model, prefix + entry + ".npy")), kTol) << prefix << entry;
}

models::SequenceState golden_state(const models::Decoder& m, const std::string& model, const std::string& prefix) {
  models::SequenceState s = m.new_state();
  for (const char* entry : {"att_shift", "wkv", "ffn_shift"}) {
    const Tensor g = golden(model, prefix + entry + ".npy");
    for (int64_t l = 0; l < m.n_layer(); ++l) s.get(state_name(l, entry)).copy_from(g.row(l));
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
    model_ = load(io::load_checkpoint(test::testdata(rel)));
    ctx_ = std::make_unique<models::Context>(model_);
    ids_ = golden_ids(GetParam().model);
  }
  std::shared_ptr<const models::Decoder> model_;
  std::unique_ptr<models::Context> ctx_;
  std::vector<int32_t> ids_;
};

TEST_P(Rwkv7Golden, RecurrentStepMatchesRnnMode) {
  const std::string& m = GetParam().model;
  const auto s = ctx_->join();
  Tensor all = Tensor::empty(DType::F32, {int64_t(ids_.size()), model_->vocab()}), one;
  for (size_t t = 0; t < ids_.size(); ++t) {
    ctx_->forward(s, std::span(ids_).subspan(t, 1), one);
    all.row(int64_t(t)).copy_from(one.row(0));
  }
  EXPECT_LE(max_diff(all, golden(m, "logits_rnn.npy")), kTol);
  expect_state(ctx_->state(s), m, "state_");
}

TEST_P(Rwkv7Golden, ChunkedPrefillMatchesRnnMode) {
  const std::string& m = GetParam().model;
  for (int64_t chunk : {64, 7}) {
    ctx_->options().chunk = chunk;
    const auto s = ctx_->join();
    Tensor logits;
    ctx_->forward(s, ids_, logits, /*all_logits=*/true);
    EXPECT_LE(max_diff(logits, golden(m, "logits_rnn.npy")), kTol) << "chunk " << chunk;
    expect_state(ctx_->state(s), m, "state_");
  }
}

TEST_P(Rwkv7Golden, SplitRunContinuesFromTheState) {
  const std::string& m = GetParam().model;
  const auto s = ctx_->join();
  Tensor first, second;
  ctx_->forward(s, std::span(ids_).subspan(0, 40), first, true);
  expect_state(ctx_->state(s), m, "split_state1_");
  ctx_->forward(s, std::span(ids_).subspan(40), second, true);
  const Tensor want = golden(m, "split_logits.npy");
  EXPECT_LE(max_diff(first, want.rows(0, 40)), kTol);
  EXPECT_LE(max_diff(second, want.rows(40, 24)), kTol);
}

TEST_P(Rwkv7Golden, StartsFromAGivenState) {
  const std::string& m = GetParam().model;
  const auto s = ctx_->join(golden_state(*model_, m, "initstate_"));
  Tensor logits;
  ctx_->forward(s, ids_, logits, true);
  EXPECT_LE(max_diff(logits, golden(m, "initstate_logits_rnn.npy")), kTol);
  expect_state(ctx_->state(s), m, "initstate_final_");
}

TEST_P(Rwkv7Golden, HiddenStatesMatch) {
  Tensor logits;
  models::Trace trace;
  ctx_->trace(ctx_->join(), ids_, logits, trace);
  // The golden layout: [T, L+1, C] (the embedding after ln0, then after each block).
  const int64_t T = int64_t(ids_.size()), L1 = int64_t(trace.hidden.size()), C = model_->width();
  Tensor hidden = Tensor::empty(DType::F32, {T, L1, C});
  for (int64_t l = 0; l < L1; ++l)
    for (int64_t t = 0; t < T; ++t) hidden.row(t).row(l).copy_from(trace.hidden[size_t(l)].row(t));
  EXPECT_LE(max_diff(hidden, golden(GetParam().model, "hidden_rnn.npy")), kTol);
}

TEST_P(Rwkv7Golden, ReferenceKernelsAgree) {
  ctx_->options().reference = true;
  Tensor logits;
  ctx_->forward(ctx_->join(), ids_, logits, true);
  EXPECT_LE(max_diff(logits, golden(GetParam().model, "logits_rnn.npy")), kTol);
}

TEST_P(Rwkv7Golden, BF16MatmulsStayWithinTheBf16Tolerance) {
  ctx_->options().precision = ops::Precision::BF16;
  const auto s = ctx_->join();
  Tensor logits;
  ctx_->forward(s, ids_, logits, true);
  const Tensor want = golden(GetParam().model, "logits_rnn.npy");
  EXPECT_LE(max_diff(logits, want), 0.15);
  const std::vector<float> a = logits.to_f32_vector(), b = want.to_f32_vector();
  double ss = 0;
  for (size_t i = 0; i < a.size(); ++i) ss += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  EXPECT_LE(std::sqrt(ss / double(a.size())), 0.02);
  EXPECT_LE(max_diff(stack(ctx_->state(s), "wkv"), golden(GetParam().model, "state_wkv.npy")), 0.05);
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
