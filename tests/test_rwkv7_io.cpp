// RWKV-7 loading rules, state files and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/checkpoint.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "models/context.h"
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

using Model = std::shared_ptr<const models::Decoder>;

// All logits of ids from a fresh state.
Tensor run(const Model& m, const std::vector<int32_t>& ids) {
  models::Context ctx(m);
  Tensor logits;
  ctx.forward(ctx.join(), ids, logits, true);
  return logits;
}

const Tensor& wkv(const models::SequenceState& s, int64_t layer) { return s.get(state_name(layer, "wkv")); }

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
    return error_of([&] { read(io::load_checkpoint(path)); });
  }
  io::Checkpoint ck_;
};

TEST_F(Rwkv7Files, FlaNamesGiveTheSameModel) {
  const io::NamedTensors fla = fla_tensors(ck_);
  const std::string path = test::temp_path("fla.safetensors");
  io::save_safetensors(path, fla);
  const Model from_fla = load(io::load_checkpoint(path)), official = load(ck_);
  EXPECT_EQ(from_fla->info().naming, models::Naming::Fla);
  EXPECT_EQ(official->fingerprint(), from_fla->fingerprint());
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
  const Model m = load(ck_);
  for (int64_t chunk : {512, 8}) {
    models::Context ctx(m, {.chunk = chunk});
    const std::vector<std::vector<int32_t>> prompts = {{1, 5, 77, 300, 2}, {9}, {411, 0, 17, 3, 3, 3, 8, 8, 100, 200, 7}, {42, 43}};
    std::vector<models::Context::SeqId> alone, batched;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto s = ctx.join();
      if (i % 2 == 1) {  // an earlier turn
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
      EXPECT_LE(max_diff(all.rows(row, want.dim(0)), want), 1e-5) << "sequence " << i << ", chunk " << chunk;
      row += want.dim(0);
    }
    // One decode step for all four (last-token logits), then the states.
    std::vector<std::vector<int32_t>> next = {{7}, {8}, {9}, {10}};
    for (size_t i = 0; i < next.size(); ++i) steps[i] = {batched[i], next[i]};
    Tensor last;
    ctx.forward(steps, last);
    ASSERT_EQ(last.shape(), (Shape{4, m->vocab()}));
    for (size_t i = 0; i < next.size(); ++i) {
      Tensor want;
      ctx.forward(alone[i], next[i], want);
      EXPECT_LE(max_diff(last.rows(int64_t(i), 1), want), 1e-5) << "sequence " << i;
      for (int64_t l = 0; l < m->n_layer(); ++l)
        EXPECT_LE(max_diff(wkv(ctx.state(batched[i]), l), wkv(ctx.state(alone[i]), l)), 1e-5);
    }
  }
  models::Context ctx(m);
  const auto s = ctx.join();
  Tensor out;
  const std::vector<int32_t> ids = {1};
  const models::Context::Step twice[] = {{s, ids}, {s, ids}};
  EXPECT_NE(error_of([&] { ctx.forward(twice, out); }).find("one state given for two sequences"), std::string::npos);
}

TEST_F(Rwkv7Files, SequencesJoinAndLeaveBetweenCalls) {
  // A context whose set of sequences changes from call to call (a server's continuous batching):
  // each sequence's logits are those of the sequence run on its own, whoever it shared calls with.
  const Model m = load(ck_);
  models::Context ctx(m), solo(m);
  const std::vector<int32_t> a = {1, 5, 77, 300}, b = {9, 8}, c = {411, 0, 17};
  const auto sa = ctx.join(), sb = ctx.join();
  Tensor first, later, want;
  const models::Context::Step both[] = {{sa, a}, {sb, b}};
  ctx.forward(both, first);
  const models::SequenceState b_state = ctx.leave(sb);  // b leaves; c joins, from scratch
  const auto sc = ctx.join();
  const int32_t one[1] = {3};
  const models::Context::Step next[] = {{sc, c}, {sa, std::span(one)}};
  ctx.forward(next, later);
  EXPECT_FALSE(ctx.holds(sb));
  EXPECT_EQ(ctx.sequences().size(), 2u);
  std::vector<int32_t> a_then = a;
  a_then.push_back(3);
  const auto check = [&](const std::vector<int32_t>& ids, const Tensor& got, const char* what) {
    const auto s = solo.join();
    solo.forward(s, ids, want);
    EXPECT_LE(max_diff(got, want), 1e-5) << what;
  };
  check(a, first.rows(0, 1), "a, first call");
  check(b, first.rows(1, 1), "b, first call");
  check(c, later.rows(0, 1), "c, joined later");
  check(a_then, later.rows(1, 1), "a, one token more");
  // b's state, taken out of the context, continues elsewhere exactly.
  const auto sb2 = solo.join(b_state.clone());
  Tensor cont;
  solo.forward(sb2, std::span(one), cont);
  std::vector<int32_t> b_then = b;
  b_then.push_back(3);
  check(b_then, cont, "b, continued in another context");
}

TEST_F(Rwkv7Files, SizesComeFromShapes) {
  const Config c = config_of(ck_);
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
  const Model m = load(ck_);
  models::Context ctx(m);
  const auto id = ctx.join();
  Tensor logits;
  ctx.forward(id, kIds, logits);
  const models::SequenceState& s = ctx.state(id);
  const std::string path = test::temp_path("state.safetensors");
  save_sequence_state(path, s, m->state_owner());
  const models::SequenceState back = load_sequence_state(path, m->state_layout(), m->state_owner());
  for (int64_t l = 0; l < m->n_layer(); ++l) {
    EXPECT_EQ(max_diff(wkv(back, l), wkv(s, l)), 0.0);
    EXPECT_EQ(max_diff(back.get(state_name(l, "att_shift")), s.get(state_name(l, "att_shift"))), 0.0);
  }
  // Same shape, different weights: refused by fingerprint.
  StateOwner other = m->state_owner();
  other.fingerprint += 1;
  EXPECT_NE(error_of([&] { load_sequence_state(path, m->state_layout(), other); }).find("another model"),
            std::string::npos);
  // Different shape: refused by shape.
  const Model deeper = random(Config::parse_shape("L3,D128,V512,W32,A48,Vr16,G64"), DType::F32, 1);
  EXPECT_NE(error_of([&] { load_sequence_state(path, deeper->state_layout(), deeper->state_owner()); }).find("shape"),
            std::string::npos);
  // Not a state file at all.
  EXPECT_NE(error_of([&] {
              load_sequence_state(test::testdata("rwkv7/tiny/model_f32.safetensors"), m->state_layout(),
                                  m->state_owner());
            }).find("not a gander RWKV-7 state file"),
            std::string::npos);
}

TEST_F(Rwkv7Files, ForkedStatesEvolveIndependently) {
  models::Context ctx(load(ck_));
  const auto a = ctx.join();
  Tensor la, lb;
  ctx.forward(a, kIds, la);
  const auto b = ctx.join(ctx.state(a).clone());
  const std::vector<int32_t> next = {3, 4};
  ctx.forward(a, next, la);
  ctx.forward(b, next, lb);
  EXPECT_EQ(max_diff(la, lb), 0.0);
  ctx.forward(a, next, la);  // a moves on; b must not
  EXPECT_GT(max_diff(wkv(ctx.state(a), 0), wkv(ctx.state(b), 0)), 0.0);
}

TEST_F(Rwkv7Files, AnySplitPointContinuesExactly) {
  const Model m = load(ck_);
  const Tensor whole = run(m, kIds);
  models::Context ctx(m);
  for (size_t split = 1; split < kIds.size(); ++split) {
    const auto s = ctx.join();
    Tensor a, b;
    ctx.forward(s, std::span(kIds).subspan(0, split), a, true);
    ctx.forward(s, std::span(kIds).subspan(split), b, true);
    EXPECT_LE(max_diff(a, whole.rows(0, int64_t(split))), 1e-5) << split;
    EXPECT_LE(max_diff(b, whole.rows(int64_t(split), int64_t(kIds.size() - split))), 1e-5) << split;
  }
}

TEST_F(Rwkv7Files, IdsOutOfRangeAndEmptyInputAreErrors) {
  models::Context ctx(load(ck_));
  const auto s = ctx.join();
  Tensor logits;
  const std::vector<int32_t> bad = {1, 512};
  EXPECT_NE(error_of([&] { ctx.forward(s, bad, logits); }).find("token id 512 is out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { ctx.forward(s, {}, logits); }).find("no tokens"), std::string::npos);
  const Model other = random(Config::parse_shape("L3,D128,V512"), DType::F32, 1);
  EXPECT_NE(error_of([&] { ctx.join(other->new_state()); }).find("does not belong to the model"), std::string::npos);
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
  const Tensor logits = run(random(c, DType::BF16, 1), {1, 2, 3});
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
  const auto m = random(c, DType::F32, 1);
  const models::SequenceState s = load_time_state(path, *m);
  // file [h][key j][value i] -> state [h][value i][key j]
  EXPECT_EQ(s.get("blocks.1.wkv").data<float>()[(1 * 64 + 3) * 64 + 5], float(10000 + (1 * 64 + 5) * 64 + 3));
  EXPECT_EQ(s.get("blocks.0.att_shift").to_f32_vector(), std::vector<float>(128, 0.0f));
  const models::SequenceState same = load_time_state(path, *m, /*key_major=*/false);
  EXPECT_EQ(same.get("blocks.1.wkv").data<float>()[(1 * 64 + 3) * 64 + 5], float(10000 + (1 * 64 + 3) * 64 + 5));
}
}  // namespace
}  // namespace gander::rwkv7
