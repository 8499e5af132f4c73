// Qwen2 against Hugging Face transformers' float32 reference outputs (../shared/testdata/qwen2).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/context.h"
#include "models/qwen2/model.h"
#include "testdata.h"

namespace gander::qwen2 {
namespace {

std::string dir(const std::string& model) { return test::testdata("qwen2/" + model); }

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

// max |a - b| over entries [offset, offset + n) of the flattened reference.
double max_diff(const Tensor& got, const std::vector<float>& ref, size_t offset) {
  const auto g = got.to_f32_vector();
  double d = 0;
  for (size_t i = 0; i < g.size(); ++i) d = std::max(d, std::fabs(double(g[i]) - ref[offset + i]));
  return d;
}

class Qwen2Golden : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(dir(GetParam()) + "/config.json"))
      GTEST_SKIP() << "test data not found: " << dir(GetParam());
    model_ = load_folder(dir(GetParam()));
    config_ = Config::from_json(io::JsonConfig::load(dir(GetParam()) + "/config.json"));
    ctx_ = std::make_unique<models::Context>(model_);
    const Tensor ids = io::load_npy(dir(GetParam()) + "/reference/input_ids.npy");
    for (int64_t b = 0; b < ids.dim(0); ++b) {
      std::vector<int32_t> row;
      for (int64_t t = 0; t < ids.dim(1); ++t) row.push_back(ids.data<int32_t>()[b * ids.dim(1) + t]);
      batch_.push_back(row);
    }
  }
  std::shared_ptr<const models::Decoder> model_;
  Config config_;
  std::unique_ptr<models::Context> ctx_;
  std::vector<std::vector<int32_t>> batch_;
};

TEST_P(Qwen2Golden, LogitsHiddenStatesAndAttentionOutputsMatch) {
  const Config& c = config_;
  const auto logits_ref = io::load_npy(dir(GetParam()) + "/reference/logits.npy").to_f32_vector();
  const auto hidden_ref = io::load_npy(dir(GetParam()) + "/reference/hidden_states.npy").to_f32_vector();
  const auto attn_ref = io::load_npy(dir(GetParam()) + "/reference/attn_outputs.npy").to_f32_vector();
  const size_t B = batch_.size(), T = batch_[0].size(), D = size_t(c.hidden);
  for (size_t b = 0; b < B; ++b) {
    Tensor logits;
    models::Trace trace;
    ctx_->trace(ctx_->join(), batch_[b], logits, trace);
    EXPECT_LE(max_diff(logits, logits_ref, b * T * size_t(c.vocab)), 1e-3) << "logits, sequence " << b;
    ASSERT_EQ(trace.hidden.size(), size_t(c.n_layer + 1));
    // transformers' hidden states: the embeddings, after each layer but the last, then the final
    // norm's output.
    for (size_t i = 0; i <= size_t(c.n_layer); ++i) {
      const Tensor& got = i < size_t(c.n_layer) ? trace.hidden[i] : trace.normed;
      const size_t off = (i * B + b) * T * D;
      const std::vector<float> slice(hidden_ref.begin() + long(i * B * T * D), hidden_ref.begin() + long((i + 1) * B * T * D));
      EXPECT_LE(max_diff(got, hidden_ref, off) / max_abs(slice), 1e-4) << "hidden " << i << ", sequence " << b;
    }
    ASSERT_EQ(trace.mixer_out.size(), size_t(c.n_layer));
    for (size_t l = 0; l < trace.mixer_out.size(); ++l) {
      const size_t off = (l * B + b) * T * D;
      const std::vector<float> slice(attn_ref.begin() + long(l * B * T * D), attn_ref.begin() + long((l + 1) * B * T * D));
      EXPECT_LE(max_diff(trace.mixer_out[l], attn_ref, off) / max_abs(slice), 1e-4) << "attention " << l << ", sequence " << b;
    }
  }
}

TEST_P(Qwen2Golden, ChunkedPrefillAndDecodingAgreeWithTheFullForward) {
  const std::vector<int32_t>& ids = batch_[0];
  Tensor whole;
  ctx_->forward(ctx_->join(), ids, whole, true);
  for (int64_t chunk : {1, 7, 64}) {
    ctx_->options().chunk = chunk;
    Tensor part;
    ctx_->forward(ctx_->join(), ids, part, true);
    EXPECT_LE(max_diff(part, whole.to_f32_vector(), 0), 1e-4) << "chunk " << chunk;
  }
}

TEST_P(Qwen2Golden, GreedyContinuationMatches) {
  std::ifstream f(dir(GetParam()) + "/reference/info.json");
  const auto info = nlohmann::json::parse(f);
  const auto prompt = info["greedy_prompt_ids"].get<std::vector<int32_t>>();
  const auto want = info["greedy_ids"].get<std::vector<int32_t>>();
  const auto seq = ctx_->join();
  Tensor logits;
  std::vector<int32_t> got = prompt;
  ctx_->forward(seq, prompt, logits);
  while (got.size() < want.size()) {
    const float* p = logits.data<float>();
    const int32_t next = int32_t(std::max_element(p, p + logits.dim(-1)) - p);
    got.push_back(next);
    const int32_t one[1] = {next};
    ctx_->forward(seq, one, logits);
  }
  EXPECT_EQ(got, want);
}

// (The golden perplexities are checked through `gander perplexity` in test_perplexity.cpp.)

INSTANTIATE_TEST_SUITE_P(Teachers, Qwen2Golden, testing::Values("qwen2-tiny", "qwen2-small"),
                         [](const auto& info) { return info.param == "qwen2-tiny" ? std::string("tiny") : std::string("small"); });

TEST(Qwen2Batch, ABatchGivesEachSequenceItsOwnLogits) {
  // Four sequences of different lengths, two continuing an earlier turn: every row of the batched
  // call matches the sequence run alone, and so does each KV cache; an 8-row chunk splits the
  // batch into passes.
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  const auto m = load_folder(dir("qwen2-tiny"));
  for (int64_t chunk : {512, 8}) {
    models::Context ctx(m, {.chunk = chunk});
    const std::vector<std::vector<int32_t>> prompts = {{1, 5, 77, 300, 2}, {9}, {411, 0, 17, 3, 3, 3, 8, 8, 100, 200, 7}, {42, 43}};
    std::vector<models::Context::SeqId> alone, batched;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto s = ctx.join();
      if (i % 2 == 1) {
        Tensor ignored;
        ctx.forward(s, std::vector<int32_t>{int32_t(20 + i), 21, 22}, ignored);
      }
      alone.push_back(ctx.join(ctx.state(s).clone()));
      batched.push_back(s);
    }
    std::vector<models::Context::Step> steps;
    for (size_t i = 0; i < prompts.size(); ++i) steps.push_back({batched[i], prompts[i]});
    Tensor all;
    ctx.forward(steps, all, true);
    int64_t row = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
      Tensor want;
      ctx.forward(alone[i], prompts[i], want, true);
      EXPECT_LE(test::max_diff(all.rows(row, want.dim(0)), want), 1e-5) << "sequence " << i << ", chunk " << chunk;
      row += want.dim(0);
    }
    const std::vector<std::vector<int32_t>> next = {{7}, {8}, {9}, {10}};
    for (size_t i = 0; i < next.size(); ++i) steps[i] = {batched[i], next[i]};
    Tensor last;
    ctx.forward(steps, last);
    for (size_t i = 0; i < next.size(); ++i) {
      Tensor want;
      ctx.forward(alone[i], next[i], want);
      EXPECT_LE(test::max_diff(last.rows(int64_t(i), 1), want), 1e-5) << "sequence " << i;
      const models::SequenceState &b = ctx.state(batched[i]), &a = ctx.state(alone[i]);
      ASSERT_EQ(b.length(), a.length());
      for (int64_t l = 0; l < m->n_layer(); ++l) {
        const std::string k = concat("layers.", l, ".k");
        EXPECT_LE(test::max_diff(b.get(k).rows(0, a.length()), a.get(k).rows(0, a.length())), 1e-5);
      }
    }
  }
}

TEST(Qwen2Config, AcceptsBothRopeStylesAndRejectsContradictions) {
  const std::string folder = test::temp_path("qwen_cfg");
  std::filesystem::create_directories(folder);
  auto write = [&](const std::string& json) { std::ofstream(folder + "/config.json") << json; };
  write(R"({"model_type":"qwen2","num_hidden_layers":1,"hidden_size":8,"intermediate_size":16,"num_attention_heads":2,
            "num_key_value_heads":1,"vocab_size":10,"rope_theta":1000000.0,"tie_word_embeddings":true})");
  const Config c = Config::from_json(io::JsonConfig::load(folder + "/config.json"));
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.head_dim, 4);
  write(R"({"model_type":"llama","num_hidden_layers":1})");
  EXPECT_THROW(Config::from_json(io::JsonConfig::load(folder + "/config.json")), Error);
  // Weights that contradict the config: one head too many in q_proj.
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/model.safetensors");
  const io::Checkpoint ck = io::load_checkpoint(dir("qwen2-tiny"));
  Config wrong = Config::from_json(io::JsonConfig::load(dir("qwen2-tiny") + "/config.json"));
  wrong.n_head = 3;
  try {
    read(wrong, ck, "config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.0.self_attn.q_proj.weight"), std::string::npos) << e.what();
  }
  // A shard listed in the index but missing.
  const std::string sharded = test::temp_path("qwen_sharded");
  std::filesystem::create_directories(sharded);
  std::filesystem::copy_file(dir("qwen2-small") + "/config.json", sharded + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir("qwen2-small") + "/model.safetensors.index.json", sharded + "/model.safetensors.index.json",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    load_folder(sharded);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00001-of-00002.safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gander::qwen2

namespace gander::qwen2 {
namespace {
// A bf16 model's matrices are moved into tiles when the model is built (a tied embedding then
// serves the lookup and the head from one tiled copy). Decoding must give the f32 results of the
// same (exactly widened) weights; prefill on the bf16 units stays within the bf16 tolerance.
TEST(Qwen2Model, TiledBf16WeightsGiveTheResultsOfTheWidenedWeights) {
  for (const char* shape : {"L2,D64,H4,KV2,I96,V300,T", "L1,D96,H3,KV1,I200,V77"}) {
    const Config c = Config::parse_shape(shape);
    std::shared_ptr<models::Decoder> bf = build(c), wide = build(c);
    models::init_params(bf->params(), DType::BF16, 11);
    for (size_t i = 0; i < bf->params().params.size(); ++i)
      *wide->params().params[i].slot = bf->params().params[i].slot->to(DType::F32);
    bf->finish();
    wide->finish();
    const std::vector<int32_t> ids = {1, 5, 299 % int32_t(c.vocab), 42, 7, 0, 3};
    for (ops::Precision p : {ops::Precision::F32, ops::Precision::BF16}) {
      models::Context a(bf, {.precision = p}), b(wide);
      const auto sa = a.join(), sb = b.join();
      Tensor la, lb;
      a.forward(sa, ids, la, true);
      b.forward(sb, ids, lb, true);
      const std::vector<float> va = la.to_f32_vector(), vb = lb.to_f32_vector();
      double diff = 0, scale = 0;
      for (size_t i = 0; i < va.size(); ++i) {
        diff = std::max(diff, std::fabs(double(va[i]) - vb[i]));
        scale = std::max(scale, std::fabs(double(vb[i])));
      }
      EXPECT_LE(diff, (p == ops::Precision::F32 ? 1e-5 : 2e-2) * scale) << shape << " " << ops::precision_name(p);
      // One more token through the matrix-vector path.
      const int32_t next = 2;
      a.forward(sa, {&next, 1}, la);
      b.forward(sb, {&next, 1}, lb);
      const std::vector<float> da = la.to_f32_vector(), db = lb.to_f32_vector();
      double d1 = 0;
      for (size_t i = 0; i < da.size(); ++i) d1 = std::max(d1, std::fabs(double(da[i]) - db[i]));
      EXPECT_LE(d1, (p == ops::Precision::F32 ? 1e-5 : 2e-2) * scale) << shape;
    }
  }
}
}  // namespace
}  // namespace gander::qwen2
