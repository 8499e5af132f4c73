// RWKV-7 loading rules, state files and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/checkpoint.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "models/rwkv7/model.h"
#include "testdata.h"

namespace gander::rwkv7 {
namespace {

using test::error_of;
using test::max_diff;

io::NamedTensors all_tensors(const io::Checkpoint& ck) {
  io::NamedTensors out;
  for (const auto& n : ck.names()) out.emplace_back(n, ck.get(n));
  return out;
}

Tensor run(Model& m, const std::vector<int32_t>& ids) {
  State s = State::zeros(m.config());
  Tensor logits;
  m.forward(ids, s, logits, true);
  return logits;
}

const std::vector<int32_t> kIds = {1, 5, 77, 300, 2, 2, 9, 411, 0, 17};

// The official tensors renamed and re-laid-out as fla / HF checkpoints store them.
io::NamedTensors fla_tensors(const io::Checkpoint& ck) {
  io::NamedTensors fla;
  auto transpose = [](const Tensor& t) {
    const auto v = t.to_f32_vector();
    const int64_t r = t.dim(0), c = t.dim(1);
    Tensor o = Tensor::empty(DType::F32, {c, r});
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) o.data<float>()[j * r + i] = v[size_t(i * c + j)];
    return o;
  };
  for (const auto& n : ck.names()) {
    const Tensor& t = ck.get(n);
    std::string m = n;
    Tensor u = t;
    if (n == "emb.weight") m = "model.embeddings.weight";
    else if (n == "head.weight") m = "lm_head.weight";
    else if (n.starts_with("ln_out.")) m = "model.norm." + n.substr(7);
    else {
      const size_t dot = n.find('.', 7);
      const std::string l = n.substr(7, dot - 7), rest = n.substr(dot + 1), p = "model.layers." + l + ".";
      if (rest.starts_with("ln0.")) m = p + "pre_norm." + rest.substr(4);
      else if (rest.starts_with("ln1.")) m = p + "attn_norm." + rest.substr(4);
      else if (rest.starts_with("ln2.")) m = p + "ffn_norm." + rest.substr(4);
      else if (rest.starts_with("att.ln_x.")) m = p + "attn.g_norm." + rest.substr(9);
      else if (rest.size() == 6 && rest[4] != 'x' && (rest[5] == '0' || rest[5] == '1' || rest[5] == '2')) {
        const char which = rest[4], idx = rest[5];
        if (l == "0" && which == 'v') continue;  // fla drops layer 0's unused value-residual LoRA
        const std::string lora = p + "attn." + which + "_lora.lora.";
        if (idx == '0') m = lora + "2.bias", u = t.reshape({t.numel()});
        else if (idx == '1') m = lora + "0.weight", u = transpose(t);
        else m = lora + "2.weight", u = transpose(t);
      } else if (rest.starts_with("att.receptance")) m = p + "attn.r_proj.weight";
      else if (rest.starts_with("att.key")) m = p + "attn.k_proj.weight";
      else if (rest.starts_with("att.value")) m = p + "attn.v_proj.weight";
      else if (rest.starts_with("att.output")) m = p + "attn.o_proj.weight";
      else if (rest.starts_with("att.")) m = p + "attn." + rest.substr(4), u = t.reshape({t.numel()});
      else m = p + rest;
    }
    fla.emplace_back(m, u.clone());
  }
  return fla;
}

class Rwkv7Files : public testing::Test {
 protected:
  void SetUp() override {
    GANDER_REQUIRE_TESTDATA("rwkv7/tiny/model_f32.safetensors");
    ck_ = io::load_checkpoint(test::testdata("rwkv7/tiny/model_f32.safetensors"));
  }
  // Writes a modified copy of the tiny checkpoint and returns the load error (or "").
  std::string load_error(const io::NamedTensors& ts) {
    const std::string path = test::temp_path("modified.safetensors");
    io::save_safetensors(path, ts);
    return error_of([&] { load_weights(io::load_checkpoint(path)); });
  }
  io::Checkpoint ck_;
};

TEST_F(Rwkv7Files, FlaNamesGiveTheSameModel) {
  const io::NamedTensors fla = fla_tensors(ck_);
  const std::string path = test::temp_path("fla.safetensors");
  io::save_safetensors(path, fla);
  Weights wf = load_weights(io::load_checkpoint(path));
  EXPECT_EQ(wf.naming, "fla / Hugging Face");
  Model official(load_weights(ck_)), from_fla(std::move(wf));
  EXPECT_EQ(official.fingerprint(), from_fla.fingerprint());
  EXPECT_EQ(max_diff(run(official, kIds), run(from_fla, kIds)), 0.0);
}

TEST_F(Rwkv7Files, AnFlaFolderLoadsByItsPath) {
  // An fla / Hugging Face folder: config.json naming the architecture, model.safetensors in fla
  // names. The registry must not take it for Qwen2 (any folder with a config.json once was).
  const std::string folder = test::temp_path("fla_folder");
  std::filesystem::create_directories(folder);
  io::save_safetensors(folder + "/model.safetensors", fla_tensors(ck_));
  io::write_file(folder + "/config.json", R"({"model_type": "rwkv7", "architectures": ["RWKV7ForCausalLM"]})");
  const models::ModelSource source = models::ModelSource::open(folder);
  EXPECT_EQ(models::detect(source).name, "rwkv7");
  auto from_folder = models::load_model(folder, {});
  auto official = models::load_model(test::testdata("rwkv7/tiny/model_f32.safetensors"), {});
  EXPECT_EQ(from_folder->architecture(), "rwkv7");
  Tensor a, b;
  from_folder->feed(kIds, a, true);
  official->feed(kIds, b, true);
  EXPECT_EQ(max_diff(a, b), 0.0);
}

TEST_F(Rwkv7Files, ABatchGivesEachSequenceItsOwnLogits) {
  // Four sequences of different lengths, two of them from states advanced earlier: every row of
  // the batched call matches the sequence run alone, and so does every state. A chunk of 8 rows
  // splits the batch into passes, the 11-token sequence running alone in two chunks.
  for (int64_t chunk : {512, 8}) {
    Model m(load_weights(ck_), {.chunk = chunk});
    const std::vector<std::vector<int32_t>> prompts = {{1, 5, 77, 300, 2}, {9}, {411, 0, 17, 3, 3, 3, 8, 8, 100, 200, 7}, {42, 43}};
    std::vector<State> alone, batched;
    for (size_t i = 0; i < prompts.size(); ++i) {
      State s = State::zeros(m.config());
      if (i % 2 == 1) {  // an earlier turn
        Tensor ignored;
        m.forward(std::vector<int32_t>{int32_t(20 + i), 21, 22}, s, ignored);
      }
      alone.push_back(s.clone());
      batched.push_back(s.clone());
    }
    std::vector<SequenceInput> in;
    for (size_t i = 0; i < prompts.size(); ++i) in.push_back({prompts[i], &batched[i]});
    Tensor all;
    m.forward_batch(in, all, true);
    int64_t row = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
      Tensor want;
      m.forward(prompts[i], alone[i], want, true);
      EXPECT_LE(max_diff(all.rows(row, want.dim(0)), want), 1e-5) << "sequence " << i << ", chunk " << chunk;
      row += want.dim(0);
    }
    // One decode step for all four (last-token logits), then the states.
    std::vector<std::vector<int32_t>> next = {{7}, {8}, {9}, {10}};
    for (size_t i = 0; i < next.size(); ++i) in[i] = {next[i], &batched[i]};
    Tensor last;
    m.forward_batch(in, last);
    ASSERT_EQ(last.shape(), (Shape{4, m.config().vocab}));
    for (size_t i = 0; i < next.size(); ++i) {
      Tensor want;
      m.forward(next[i], alone[i], want);
      EXPECT_LE(max_diff(last.rows(int64_t(i), 1), want), 1e-5) << "sequence " << i;
      for (int64_t l = 0; l < m.config().n_layer; ++l)
        EXPECT_LE(max_diff(batched[i].wkv[size_t(l)], alone[i].wkv[size_t(l)]), 1e-5);
    }
  }
  Model m(load_weights(ck_));
  State s = State::zeros(m.config());
  Tensor out;
  const std::vector<int32_t> ids = {1};
  const SequenceInput twice[] = {{ids, &s}, {ids, &s}};
  EXPECT_NE(error_of([&] { m.forward_batch(twice, out); }).find("one state given for two sequences"), std::string::npos);
}

TEST_F(Rwkv7Files, SizesComeFromShapes) {
  const Config c = load_weights(ck_).config;
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_embd, 128);
  EXPECT_EQ(c.vocab, 512);
  EXPECT_EQ(c.dim_ffn, 512);
  EXPECT_EQ(c.rank_w, 32);
  EXPECT_EQ(c.rank_a, 48);
  EXPECT_EQ(c.rank_v, 16);
  EXPECT_EQ(c.rank_g, 64);
  EXPECT_EQ(c.parameter_count(), 611584);
}

TEST_F(Rwkv7Files, LayerZeroValueLoraMayBeAbsent) {
  io::NamedTensors ts;
  for (auto& [n, t] : all_tensors(ck_))
    if (n != "blocks.0.att.v0" && n != "blocks.0.att.v1" && n != "blocks.0.att.v2") ts.emplace_back(n, t);
  EXPECT_EQ(load_error(ts), "");
}

TEST_F(Rwkv7Files, BadTensorsAreNamed) {
  io::NamedTensors missing, wrong, extra = all_tensors(ck_);
  for (auto& [n, t] : all_tensors(ck_)) {
    if (n != "blocks.1.att.key.weight") missing.emplace_back(n, t);
    wrong.emplace_back(n, n == "blocks.1.att.a2" ? Tensor::zeros(DType::F32, {47, 128}) : t);
  }
  extra.emplace_back("blocks.1.att.surprise", Tensor::zeros(DType::F32, {3}));
  std::string e = load_error(missing);
  EXPECT_NE(e.find("missing tensor 'blocks.1.att.key.weight'"), std::string::npos) << e;
  e = load_error(wrong);
  EXPECT_NE(e.find("blocks.1.att.a2"), std::string::npos) << e;
  EXPECT_NE(e.find("expected shape [48, 128], got [47, 128]"), std::string::npos) << e;
  e = load_error(extra);
  EXPECT_NE(e.find("unknown tensor 'blocks.1.att.surprise'"), std::string::npos) << e;
}

TEST_F(Rwkv7Files, StateFilesRoundTripAndBelongToOneModel) {
  Model m(load_weights(ck_));
  State s = State::zeros(m.config());
  Tensor logits;
  m.forward(kIds, s, logits);
  const std::string path = test::temp_path("state.safetensors");
  save_state(path, s, m.config(), m.fingerprint());
  State back = load_state(path, m.config(), m.fingerprint());
  for (int64_t l = 0; l < m.config().n_layer; ++l) {
    EXPECT_EQ(max_diff(back.wkv[size_t(l)], s.wkv[size_t(l)]), 0.0);
    EXPECT_EQ(max_diff(back.att_shift[size_t(l)], s.att_shift[size_t(l)]), 0.0);
  }
  // Same shape, different weights: refused by fingerprint.
  EXPECT_NE(error_of([&] { load_state(path, m.config(), m.fingerprint() + 1); }).find("another model"), std::string::npos);
  // Different shape: refused by shape.
  Config other = m.config();
  other.n_layer = 3;
  EXPECT_NE(error_of([&] { load_state(path, other, m.fingerprint()); }).find("shape"), std::string::npos);
  // Not a state file at all.
  EXPECT_NE(error_of([&] { load_state(test::testdata("rwkv7/tiny/model_f32.safetensors"), m.config(), m.fingerprint()); })
                .find("not a gander RWKV-7 state file"),
            std::string::npos);
}

TEST_F(Rwkv7Files, ForkedStatesEvolveIndependently) {
  Model m(load_weights(ck_));
  State a = State::zeros(m.config());
  Tensor la, lb;
  m.forward(kIds, a, la);
  State b = a.clone();
  const std::vector<int32_t> next = {3, 4};
  m.forward(next, a, la);
  m.forward(next, b, lb);
  EXPECT_EQ(max_diff(la, lb), 0.0);
  m.forward(next, a, la);  // a moves on; b must not
  EXPECT_GT(max_diff(a.wkv[0], b.wkv[0]), 0.0);
}

TEST_F(Rwkv7Files, AnySplitPointContinuesExactly) {
  Model m(load_weights(ck_));
  const Tensor whole = run(m, kIds);
  for (size_t split = 1; split < kIds.size(); ++split) {
    State s = State::zeros(m.config());
    Tensor a, b;
    m.forward(std::span(kIds).subspan(0, split), s, a, true);
    m.forward(std::span(kIds).subspan(split), s, b, true);
    EXPECT_LE(max_diff(a, whole.rows(0, int64_t(split))), 1e-5) << split;
    EXPECT_LE(max_diff(b, whole.rows(int64_t(split), int64_t(kIds.size() - split))), 1e-5) << split;
  }
}

TEST_F(Rwkv7Files, IdsOutOfRangeAndEmptyInputAreErrors) {
  Model m(load_weights(ck_));
  State s = State::zeros(m.config());
  Tensor logits;
  const std::vector<int32_t> bad = {1, 512};
  EXPECT_NE(error_of([&] { m.forward(bad, s, logits); }).find("token id 512 is out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { m.forward({}, s, logits); }).find("no tokens"), std::string::npos);
}

TEST(Rwkv7Random, ReleasedShapesBuild) {
  const Config c = Config::parse_shape("L2,D768,V1000");
  EXPECT_EQ(c.rank_w, 64);
  EXPECT_EQ(c.rank_v, 32);
  EXPECT_EQ(c.rank_g, 128);
  EXPECT_EQ(Config::parse_shape("L24,D1024,V65536").rank_g, 128);  // the 0.4B exception
  EXPECT_EQ(Config::parse_shape("L24,D2048,V65536").rank_g, 256);
  EXPECT_EQ(Config::parse_shape("L24,D1024,V65536").parameter_count(), 450834432);
  EXPECT_EQ(Config::parse_shape("L24,D2048,V65536").parameter_count(), 1527668736);
  EXPECT_THROW(Config::parse_shape("L2,D100,V10"), Error);
  Model m(random_weights(c, DType::BF16, 1));
  const Tensor logits = run(m, {1, 2, 3});
  for (float v : logits.to_f32_vector()) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace gander::rwkv7

namespace gander::rwkv7 {
namespace {
TEST(Rwkv7TimeState, LoadsKeyMajorTuningFilesIntoTheWkvLayout) {
  const Config c = Config::parse_shape("L2,D128,V16");
  io::NamedTensors ts;
  for (int l = 0; l < 2; ++l) {
    Tensor t = Tensor::empty(DType::F32, {2, 64, 64});
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(i + 10000 * l);
    ts.emplace_back(concat("blocks.", l, ".att.time_state"), t);
  }
  const std::string path = test::temp_path("time_state.safetensors");
  io::save_safetensors(path, ts);
  const State s = load_time_state(path, c);
  // file [h][key j][value i] -> state [h][value i][key j]
  EXPECT_EQ(s.wkv[1].data<float>()[(1 * 64 + 3) * 64 + 5], float(10000 + (1 * 64 + 5) * 64 + 3));
  EXPECT_EQ(s.att_shift[0].to_f32_vector(), std::vector<float>(128, 0.0f));
  const State same = load_time_state(path, c, /*key_major=*/false);
  EXPECT_EQ(same.wkv[1].data<float>()[(1 * 64 + 3) * 64 + 5], float(10000 + (1 * 64 + 3) * 64 + 5));
}
}  // namespace
}  // namespace gander::rwkv7
