// The RADLADS students and their teacher against the RADLADS-paper code's float32 outputs
// (../shared/testdata/radlads, README there): the tiny Qwen2 teacher through qwen2::build, and the
// RAD-RWKV7 students as the same decoder with the time mix in its RADLADS forms as every layer's
// mixer, weights under the students' Hugging Face names.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "models/context.h"
#include "models/mixers/time_mix7.h"
#include "models/qwen2/model.h"
#include "models/training.h"
#include "testdata.h"

namespace gander {
namespace {

using models::TimeMix7Config;

std::string rad(const std::string& rel) { return test::testdata("radlads/" + rel); }

// The teacher of the README: D 128, 2 layers, 2 heads of 64, 1 KV head, SwiGLU 256, vocab 512.
qwen2::Config teacher_config() {
  qwen2::Config c;
  c.n_layer = 2, c.hidden = 128, c.intermediate = 256, c.n_head = 2, c.n_kv_head = 1, c.head_dim = 64;
  c.vocab = 512, c.rope_theta = 1e6, c.rms_eps = 1e-6f, c.tied_embeddings = false;
  return c;
}

qwen2::MixerFor rad_mixer(const qwen2::Config& c, TimeMix7Config::Form form) {
  return [c, form](int64_t layer) -> std::unique_ptr<models::Block> {
    TimeMix7Config m;
    m.form = form, m.layer = layer, m.width = c.hidden, m.heads = c.n_head, m.head_size = c.head_dim;
    m.kv_heads = c.n_kv_head, m.rank_w = 16, m.rank_a = 24, m.rank_v = 8, m.rank_g = 40, m.rope_theta = c.rope_theta;
    return std::make_unique<models::TimeMix7>(m);
  };
}

// The student's weights are `init`'s, where `override_file` (if given) does not replace them.
// for_training: f32 row-major master weights instead of the inference layout.
std::shared_ptr<models::Decoder> load_student(TimeMix7Config::Form form, const std::string& init,
                                              const std::string& override_file = "", bool for_training = false) {
  const qwen2::Config c = teacher_config();
  std::shared_ptr<models::Decoder> d = qwen2::build(c, rad_mixer(c, form));
  io::Checkpoint ck = io::load_checkpoint(init);
  if (!override_file.empty()) {
    const io::Checkpoint over = io::load_checkpoint(override_file);
    io::Checkpoint merged(init, "safetensors");
    for (const std::string& n : ck.names()) merged.add(n, over.contains(n) ? over.get(n) : ck.get(n));
    for (const std::string& n : over.names()) EXPECT_TRUE(ck.contains(n)) << n;
    ck = std::move(merged);
  }
  models::load_params(d->params(), models::Naming::Hf, ck, nullptr);
  if (for_training) models::make_master_weights(d->params());
  else d->finish();
  return d;
}

std::vector<std::vector<int32_t>> batch() {
  std::ifstream f(rad("batch.json"));
  const auto j = nlohmann::json::parse(f);
  return j.at("input_ids").get<std::vector<std::vector<int32_t>>>();
}

// max |got - block b of ref|, with ref cut into blocks of got's size.
double diff_at(const Tensor& got, const Tensor& ref, int64_t b) {
  const auto g = got.to_f32_vector(), r = ref.to_f32_vector();
  const size_t n = g.size();
  EXPECT_EQ(r.size() % n, 0u);
  double d = 0;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::fabs(double(g[i]) - r[size_t(b) * n + i]));
  return d;
}

TEST(RadTeacher, LogitsAndAttentionOutputsMatchTheirCode) {
  GANDER_REQUIRE_TESTDATA("radlads/teacher/model.safetensors");
  const qwen2::Config c = teacher_config();
  std::shared_ptr<models::Decoder> d =
      qwen2::read(c, io::load_checkpoint(rad("teacher/model.safetensors")), "the README's teacher shape");
  d->finish();
  models::Context ctx(std::move(d));
  const Tensor logits_ref = io::load_npy(rad("teacher/logits.npy"));
  const Tensor attn_ref = io::load_npy(rad("teacher/attn_out.npy"));  // [L, B, T, D]
  const auto ids = batch();
  for (int64_t b = 0; b < int64_t(ids.size()); ++b) {
    Tensor logits;
    models::Trace trace;
    ctx.trace(ctx.join(), ids[size_t(b)], logits, trace);
    EXPECT_LE(diff_at(logits, logits_ref, b), 2e-5) << "sequence " << b;
    // attn_out is [L, B, T, D]: layer l of sequence b is block l * B + b of T x D values.
    for (int64_t l = 0; l < c.n_layer; ++l)
      EXPECT_LE(diff_at(trace.mixer_out[size_t(l)], attn_ref, l * attn_ref.dim(1) + b), 2e-5)
          << "layer " << l << ", sequence " << b;
  }
}

struct Student {
  const char* folder;
  TimeMix7Config::Form form;
  const char* init;      // student_init.safetensors of this folder
  const char* override;  // the perturbed mixer parameters, or ""
};

class RadStudent : public testing::TestWithParam<Student> {};

// Free running (their Step 2): every sequence alone, then both in one batched call, each with its
// own logits; the RADLADS suggestion is 2e-5 absolute for a float32 implementation.
TEST_P(RadStudent, LogitsMatchTheirCodeAloneAndBatched) {
  const Student& s = GetParam();
  GANDER_REQUIRE_TESTDATA(concat("radlads/", s.folder, "/step2_logits.npy"));
  const std::string over = *s.override ? rad(s.override) : "";
  models::Context ctx(load_student(s.form, rad(s.init), over));
  const Tensor ref = io::load_npy(rad(concat(s.folder, "/step2_logits.npy")));  // [B, T, V]
  const auto ids = batch();
  const int64_t B = int64_t(ids.size()), T = int64_t(ids[0].size()), V = ref.dim(2);
  for (int64_t b = 0; b < B; ++b) {
    Tensor logits;
    ctx.forward(ctx.join(), ids[size_t(b)], logits, /*all_logits=*/true);
    EXPECT_LE(diff_at(logits, ref, b), 2e-5) << s.folder << ", sequence " << b << " alone";
  }
  std::vector<models::Context::Step> steps;
  for (int64_t b = 0; b < B; ++b) steps.push_back({ctx.join(), ids[size_t(b)]});
  Tensor logits;
  ctx.forward(steps, logits, /*all_logits=*/true);
  ASSERT_EQ(logits.shape(), (Shape{B * T, V}));
  const auto all = logits.to_f32_vector(), r = ref.to_f32_vector();
  double d = 0;
  for (size_t i = 0; i < all.size(); ++i) d = std::max(d, std::fabs(double(all[i]) - r[i]));
  EXPECT_LE(d, 2e-5) << s.folder << ", batched";
  // Decoding token by token continues the same recurrence.
  const models::Context::SeqId seq = ctx.join();
  ctx.forward(seq, std::span(ids[0]).first(size_t(T - 1)), logits);
  ctx.forward(seq, std::span(ids[0]).last(1), logits);
  const auto last = logits.to_f32_vector();
  double dl = 0;
  for (int64_t v = 0; v < V; ++v) dl = std::max(dl, std::fabs(double(last[size_t(v)]) - r[size_t((T - 1) * V + v)]));
  EXPECT_LE(dl, 2e-5) << s.folder << ", prefill then one decoding step";
}

// The training forward of the RAD forms (time_mix7_train.cpp) against their code too: the loss of
// the batch's next tokens is the cross-entropy of their logits.
TEST_P(RadStudent, TrainingLossIsTheCrossEntropyOfTheirLogits) {
  const Student& s = GetParam();
  GANDER_REQUIRE_TESTDATA(concat("radlads/", s.folder, "/step2_logits.npy"));
  std::shared_ptr<models::Decoder> d = load_student(s.form, rad(s.init), *s.override ? rad(s.override) : "", true);
  const Tensor ref = io::load_npy(rad(concat(s.folder, "/step2_logits.npy")));  // [B, T, V]
  const auto seqs = batch();
  const int64_t B = int64_t(seqs.size()), T = int64_t(seqs[0].size()), V = ref.dim(2);
  std::vector<int32_t> ids, targets;
  for (const auto& q : seqs)
    for (int64_t t = 0; t < T; ++t) ids.push_back(q[size_t(t)]), targets.push_back(t + 1 < T ? q[size_t(t + 1)] : -1);
  const auto r = ref.to_f32_vector();
  double want = 0;
  for (int64_t i = 0; i < B * T; ++i) {
    if (targets[size_t(i)] < 0) continue;
    const float* z = r.data() + i * V;
    double m = -INFINITY, sum = 0;
    for (int64_t v = 0; v < V; ++v) m = std::max(m, double(z[v]));
    for (int64_t v = 0; v < V; ++v) sum += std::exp(double(z[v]) - m);
    want += m + std::log(sum) - z[targets[size_t(i)]];
  }
  want /= double(B * (T - 1));
  models::Gradients none(d->params(), [](const models::Param&) { return false; });
  EXPECT_NEAR(d->train_step({ids, targets, B, T}, none), want, 1e-5) << s.folder;
}

INSTANTIATE_TEST_SUITE_P(
    Radlads, RadStudent,
    testing::Values(Student{"rad_rwkv7_default", TimeMix7Config::Form::RadDefault, "rad_rwkv7_default/student_init.safetensors", ""},
                    Student{"rad_rwkv7_balanced", TimeMix7Config::Form::RadBalanced,
                            "rad_rwkv7_balanced/student_init.safetensors", ""},
                    Student{"rad_rwkv7_balanced_perturbed", TimeMix7Config::Form::RadBalanced,
                            "rad_rwkv7_balanced/student_init.safetensors",
                            "rad_rwkv7_balanced_perturbed/mixer_params.safetensors"}),
    [](const testing::TestParamInfo<Student>& i) { return std::string(i.param.folder); });

// The balanced form has no GroupNorm: a file that carries ln_x for it is not understood.
TEST(RadStudentLoad, TheBalancedFormRefusesTheDefaultFormsGroupNorm) {
  GANDER_REQUIRE_TESTDATA("radlads/rad_rwkv7_default/student_init.safetensors");
  const std::string msg = test::error_of(
      [] { load_student(TimeMix7Config::Form::RadBalanced, rad("rad_rwkv7_default/student_init.safetensors")); });
  EXPECT_NE(msg.find("ln_x"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gander
