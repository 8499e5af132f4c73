// The RADLADS students and their teacher against the RADLADS-paper code's float32 outputs
// (../shared/testdata/radlads, README there): the tiny Qwen2 teacher through qwen2::read, the
// RAD-RWKV7 students through radlads::build (the time mix in its RADLADS forms as every layer's
// mixer, weights under the release's Hugging Face names): logits, the RADLADS initialisation from
// the teacher, the Step-1 and Step-2 losses and every gradient of both.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "models/context.h"
#include "models/registry.h"
#include "models/mixers/time_mix7.h"
#include "models/qwen2/model.h"
#include "models/radlads/model.h"
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
  c.vocab = 512, c.rope_theta = 1e6, c.rms_eps = 1e-6f, c.tied_embeddings = false, c.max_positions = 4096;
  return c;
}

radlads::Config student_config(TimeMix7Config::Form form, bool rwkv6 = false) {
  if (rwkv6) {  // the README's RAD-RWKV6: token shift of rank 8 (x5), decay rank 16, no RoPE
    radlads::Config c = radlads::Config::for_teacher(teacher_config(), radlads::MixerKind::Rwkv6);
    c.rank_tokenshift = 8, c.rank_decay = 16;
    return c;
  }
  radlads::Config c = radlads::Config::for_teacher(teacher_config(), radlads::MixerKind::Rwkv7);
  c.rank_decay = 16, c.rank_iclr = 24, c.rank_value = 8, c.rank_gate = 40;  // the README's ranks
  c.balance_state = form == TimeMix7Config::Form::RadBalanced;
  c.groupnorm_att = !c.balance_state;
  return c;
}

// The student's weights are `init`'s, where `override_file` (if given) does not replace them.
// for_training: f32 row-major master weights instead of the inference layout.
std::shared_ptr<models::Decoder> load_student(TimeMix7Config::Form form, const std::string& init,
                                              const std::string& override_file = "", bool for_training = false,
                                              bool rwkv6 = false) {
  std::shared_ptr<models::Decoder> d = radlads::build(student_config(form, rwkv6));
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

std::shared_ptr<models::Decoder> load_teacher(bool for_training) {
  std::shared_ptr<models::Decoder> d =
      qwen2::read(teacher_config(), io::load_checkpoint(rad("teacher/model.safetensors")), "the README's teacher shape");
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
  models::Context ctx(load_teacher(false));
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
  bool rwkv6 = false;    // RAD-RWKV6 (form unused)
};

class RadStudent : public testing::TestWithParam<Student> {};

// Free running (their Step 2): every sequence alone, then both in one batched call, each with its
// own logits; the RADLADS suggestion is 2e-5 absolute for a float32 implementation.
TEST_P(RadStudent, LogitsMatchTheirCodeAloneAndBatched) {
  const Student& s = GetParam();
  GANDER_REQUIRE_TESTDATA(concat("radlads/", s.folder, "/step2_logits.npy"));
  const std::string over = *s.override ? rad(s.override) : "";
  models::Context ctx(load_student(s.form, rad(s.init), over, false, s.rwkv6));
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
  std::shared_ptr<models::Decoder> d = load_student(s.form, rad(s.init), *s.override ? rad(s.override) : "", true, s.rwkv6);
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
                            "rad_rwkv7_balanced_perturbed/mixer_params.safetensors"},
                    Student{"rad_rwkv6", TimeMix7Config::Form::RadBalanced, "rad_rwkv6/student_init.safetensors", "", true},
                    Student{"rad_rwkv6_perturbed", TimeMix7Config::Form::RadBalanced, "rad_rwkv6/student_init.safetensors",
                            "rad_rwkv6_perturbed/mixer_params.safetensors", true}),
    [](const testing::TestParamInfo<Student>& i) { return std::string(i.param.folder); });

// The balanced form has no GroupNorm: a file that carries ln_x for it is not understood.
TEST(RadStudentLoad, TheBalancedFormRefusesTheDefaultFormsGroupNorm) {
  GANDER_REQUIRE_TESTDATA("radlads/rad_rwkv7_default/student_init.safetensors");
  const std::string msg = test::error_of(
      [] { load_student(TimeMix7Config::Form::RadBalanced, rad("rad_rwkv7_default/student_init.safetensors")); });
  EXPECT_NE(msg.find("ln_x"), std::string::npos) << msg;
}

// The golden batch as one training batch (targets unused by both steps).
struct FlatBatch {
  std::vector<int32_t> ids, targets;
  int64_t B = 0, T = 0;
  models::TrainBatch view() const { return {ids, targets, B, T}; }
};
FlatBatch flat_batch() {
  FlatBatch f;
  const auto seqs = batch();
  f.B = int64_t(seqs.size()), f.T = int64_t(seqs[0].size());
  for (const auto& q : seqs)
    for (int64_t t = 0; t < f.T; ++t) f.ids.push_back(q[size_t(t)]), f.targets.push_back(t + 1 < f.T ? q[size_t(t + 1)] : -1);
  return f;
}

double golden_loss(const std::string& folder, const char* step) {
  std::ifstream f(rad(folder + "/config.json"));
  return nlohmann::json::parse(f).at(step).at("loss").get<double>();
}

// Every gradient the golden file holds against ours (stored under the same names and shapes):
// within 2e-5 of the tensor's largest value (+1e-9), the README's suggestion. Tensors the model
// does not use (layer 0's value-residual LoRA, which gander does not hold) must be zero there.
void expect_gradients(const models::Decoder& d, const models::Gradients& g, const std::string& file) {
  const io::Checkpoint want = io::load_checkpoint(file);
  std::map<std::string, Tensor> ours;
  const auto& params = d.params().params;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!g.by_index()[i].defined()) continue;
    models::Param q = params[i];
    Tensor grad = g.by_index()[i];
    q.slot = &grad;
    ours[q.as(models::Naming::Hf).name] = models::to_stored(q, models::Naming::Hf, nullptr);
  }
  for (const std::string& n : want.names()) {
    const Tensor& ref = want.get(n);
    double scale = 0;
    for (float v : ref.to_f32_vector()) scale = std::max(scale, double(std::fabs(v)));
    auto it = ours.find(n);
    if (it == ours.end()) {
      EXPECT_EQ(scale, 0) << n << ": a gradient gander does not compute is non-zero in " << file;
      continue;
    }
    ASSERT_EQ(it->second.numel(), ref.numel()) << n;
    EXPECT_LE(test::max_diff(it->second, ref), 2e-5 * scale + 1e-9) << n << " (largest " << scale << ")";
  }
}

// One RADLADS step of a golden student against their loss and gradients: `step` is "step1" or
// "step2"; only the parameters `trains` selects get gradients.
using StepFn = double (models::Decoder::*)(const models::Decoder&, const models::TrainBatch&, models::Gradients&,
                                           const models::TrainOptions&) const;
void expect_step(const Student& s, const char* step, StepFn run, const std::function<bool(const models::Param&)>& trains) {
  std::shared_ptr<models::Decoder> d = load_student(s.form, rad(s.init), *s.override ? rad(s.override) : "", true, s.rwkv6);
  std::shared_ptr<models::Decoder> teacher = load_teacher(true);
  models::Gradients g(d->params(), trains);
  const FlatBatch b = flat_batch();
  const double loss = ((*d).*run)(*teacher, b.view(), g, {});
  const double want = golden_loss(s.folder, step);
  EXPECT_NEAR(loss, want, 1e-6 * want) << s.folder << " " << step;
  expect_gradients(*d, g, rad(concat(s.folder, "/", step, "_grads.safetensors")));
}

// Step 1: the teacher's attention drives the stream, each mixer is aligned to it; only the
// mixers (all of self_attn, the copied q/k/v/o included) train.
TEST_P(RadStudent, Step1LossAndGradientsMatchTheirCode) {
  GANDER_REQUIRE_TESTDATA(concat("radlads/", GetParam().folder, "/step1_grads.safetensors"));
  expect_step(GetParam(), "step1", &models::Decoder::align_step, [](const models::Param& p) {
    return p.as(models::Naming::Hf).name.find(".self_attn.") != std::string::npos;
  });
}

// Step 2: KL(teacher || student) of the next-token distributions; every parameter trains.
TEST_P(RadStudent, Step2LossAndGradientsMatchTheirCode) {
  GANDER_REQUIRE_TESTDATA(concat("radlads/", GetParam().folder, "/step2_grads.safetensors"));
  expect_step(GetParam(), "step2", &models::Decoder::distill_step, {});
}

// The RADLADS initialisation from the teacher against their code's student: every copied tensor
// bit for bit, the formula-given ones to float rounding, the orthogonal ones (their own random
// draws) by their defining property: rows orthonormal times 0.1 in the stored [rank, D] form.
TEST(RadInit, FromTheTeacherAsTheirCodeInitialises) {
  for (auto [folder, form] : {std::pair{"rad_rwkv7_balanced", TimeMix7Config::Form::RadBalanced},
                              {"rad_rwkv7_default", TimeMix7Config::Form::RadDefault}}) {
    GANDER_REQUIRE_TESTDATA(concat("radlads/", folder, "/student_init.safetensors"));
    std::shared_ptr<models::Decoder> teacher = load_teacher(true);
    const std::unique_ptr<models::Decoder> d = radlads::from_teacher(*teacher, student_config(form), 1337);
    const io::Checkpoint want = io::load_checkpoint(rad(concat(folder, "/student_init.safetensors")));
    std::map<std::string, Tensor> ours;
    for (auto& [name, t] : models::stored_tensors(d->params(), models::Naming::Hf, nullptr)) ours[name] = t;
    int checked = 0;
    for (const std::string& n : want.names()) {
      if (n == "model.layers.0.self_attn.v0" || n == "model.layers.0.self_attn.v1" ||
          n == "model.layers.0.self_attn.v2")
        continue;  // unused, unset in their code (zeros)
      ASSERT_TRUE(ours.count(n)) << folder << ": " << n;
      const Tensor& got = ours[n];
      const Tensor& ref = want.get(n);
      ASSERT_EQ(got.numel(), ref.numel()) << n;
      const bool orthogonal = n.ends_with("self_attn.w2") || n.ends_with("self_attn.a2") ||
                              n.ends_with("self_attn.v2") || n.ends_with("self_attn.g2");
      if (!orthogonal) {
        EXPECT_LE(test::max_diff(got, ref), n.ends_with(".w0") ? 2e-6 : 0.0) << folder << ": " << n;
      } else {
        const int64_t rows = got.dim(0), cols = got.dim(1);
        const auto m = got.to_f32_vector();
        double worst = 0;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < rows; ++j) {
            double dot = 0;
            for (int64_t k = 0; k < cols; ++k) dot += double(m[size_t(i * cols + k)]) * m[size_t(j * cols + k)];
            worst = std::max(worst, std::fabs(dot - (i == j ? 0.01 : 0.0)));
          }
        EXPECT_LE(worst, 1e-6) << folder << ": " << n << " is not 0.1 x orthonormal rows";
      }
      ++checked;
    }
    EXPECT_EQ(checked + 3, int(want.size())) << folder;
    EXPECT_EQ(ours.size(), want.size() - 3) << folder;  // nothing more than theirs
  }
}

// RAD-RWKV6: the formulas exactly (time_maa_x 1, the other mixes and first LoRA matrices 0, the
// decay curve), the random ones by their distribution (time_maa_w2 and time_decay_w2 U(-0.01,
// 0.01), the gate Kaiming-uniform within 1/sqrt(D)), everything else the teacher's.
TEST(RadInit, Rwkv6FromTheTeacherAsTheirCodeInitialises) {
  GANDER_REQUIRE_TESTDATA("radlads/rad_rwkv6/student_init.safetensors");
  std::shared_ptr<models::Decoder> teacher = load_teacher(true);
  const std::unique_ptr<models::Decoder> d =
      radlads::from_teacher(*teacher, student_config(TimeMix7Config::Form::RadBalanced, true), 1337);
  const io::Checkpoint want = io::load_checkpoint(rad("rad_rwkv6/student_init.safetensors"));
  std::map<std::string, Tensor> ours;
  for (auto& [name, t] : models::stored_tensors(d->params(), models::Naming::Hf, nullptr)) ours[name] = t;
  EXPECT_EQ(ours.size(), want.size());
  for (const std::string& n : want.names()) {
    ASSERT_TRUE(ours.count(n)) << n;
    const Tensor& got = ours[n];
    const Tensor& ref = want.get(n);
    ASSERT_EQ(got.numel(), ref.numel()) << n;
    const double bound = n.ends_with("gate.weight") ? 1 / std::sqrt(128.0)
                         : n.ends_with("maa_w2") || n.ends_with("decay_w2") ? 0.01 : -1;
    if (bound < 0) {
      EXPECT_LE(test::max_diff(got, ref), n.ends_with("time_decay") ? 2e-6 : 0.0) << n;
      continue;
    }
    double lo = 0, hi = 0, ref_hi = 0;
    for (float v : got.to_f32_vector()) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
    for (float v : ref.to_f32_vector()) ref_hi = std::max(ref_hi, std::fabs(double(v)));
    EXPECT_GE(lo, -bound) << n;
    EXPECT_LE(hi, bound) << n;
    EXPECT_GT(hi, 0.9 * bound) << n << ": not spread over the range";
    EXPECT_LE(ref_hi, bound) << n << ": their values lie outside the range expected";
  }
}

// A RAD-RWKV6 folder (model_type rwkv6qwen2, the release's keys) opens through the registry as
// rad_rwkv6 and runs as their logits say; a rank config.json does not match is refused by name.
TEST(RadFolder, Rwkv6LoadsThroughTheRegistry) {
  GANDER_REQUIRE_TESTDATA("radlads/rad_rwkv6/step2_logits.npy");
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / concat("gander-rad6folder-", ::getpid());
  fs::remove_all(dir);
  const radlads::Config c = student_config(TimeMix7Config::Form::RadBalanced, true);
  std::shared_ptr<models::Decoder> d =
      load_student(TimeMix7Config::Form::RadBalanced, rad("rad_rwkv6/student_init.safetensors"), "", true, true);
  models::write_hf_folder(d->params(), c.to_json(), "", (dir / "good").string());
  const auto j = nlohmann::json::parse(c.to_json());
  EXPECT_EQ(j["model_type"], "rwkv6qwen2");
  EXPECT_EQ(j["lora_rank_tokenshift"], 8);
  EXPECT_EQ(j["use_tokenshift"], true);
  EXPECT_EQ(j["gate_rank_type"], 1);
  {
    std::unique_ptr<Runner> r = models::load_model((dir / "good").string(), {});
    EXPECT_EQ(r->architecture(), "rad_rwkv6");
    const Tensor ref = io::load_npy(rad("rad_rwkv6/step2_logits.npy"));
    Tensor logits;
    r->feed(batch()[1], logits, /*all_logits=*/true);
    EXPECT_LE(diff_at(logits, ref, 1), 2e-5);
  }
  fs::create_directories(dir / "rank");
  fs::copy_file(dir / "good/model.safetensors", dir / "rank/model.safetensors");
  nlohmann::json k = j;
  k["lora_rank_tokenshift"] = 4;
  std::ofstream(dir / "rank/config.json") << k.dump(2);
  const std::string msg = test::error_of([&] { models::load_model((dir / "rank").string(), {}); });
  EXPECT_NE(msg.find("self_attn.time_maa_w1"), std::string::npos) << msg;
  fs::remove_all(dir);
}

// A student folder as the release lays it out (config.json with model_type rwkv7qwen2 and the
// release's keys, the weights under their names) loads through the registry and runs as the
// golden logits say; broken folders are refused naming the file and the tensor.
TEST(RadFolder, LoadsThroughTheRegistryAndRefusesBrokenOnes) {
  GANDER_REQUIRE_TESTDATA("radlads/rad_rwkv7_balanced/step2_logits.npy");
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / concat("gander-radfolder-", ::getpid());
  fs::remove_all(dir);
  const radlads::Config c = student_config(TimeMix7Config::Form::RadBalanced);
  std::shared_ptr<models::Decoder> d =
      load_student(TimeMix7Config::Form::RadBalanced, rad("rad_rwkv7_balanced/student_init.safetensors"), "", true);
  models::write_hf_folder(d->params(), c.to_json(), "", (dir / "good").string());
  {
    std::unique_ptr<Runner> r = models::load_model((dir / "good").string(), {});
    EXPECT_EQ(r->architecture(), "rad_rwkv7");
    const Tensor ref = io::load_npy(rad("rad_rwkv7_balanced/step2_logits.npy"));
    Tensor logits;
    r->feed(batch()[0], logits, /*all_logits=*/true);
    EXPECT_LE(diff_at(logits, ref, 0), 2e-5);
  }
  // The config's key names are the release's.
  const auto j = nlohmann::json::parse(c.to_json());
  for (const char* k : {"lora_rank_decay", "lora_rank_iclr", "lora_rank_value_residual_mix", "lora_rank_gate",
                        "use_rope", "balance_state", "groupnorm_att", "use_tokenshift", "gate_rank_type",
                        "num_attention_layers", "attention_bias", "attention_output_bias"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["model_type"], "rwkv7qwen2");
  // Another rank in config.json than the tensors have: the tensor, its shape and the config named.
  auto broken = [&](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    const fs::path b = dir / name;
    fs::create_directories(b);
    fs::copy_file(dir / "good/model.safetensors", b / "model.safetensors");
    nlohmann::json k = j;
    edit(k);
    std::ofstream(b / "config.json") << k.dump(2);
    return test::error_of([&] { models::load_model(b.string(), {}); });
  };
  std::string msg = broken("rank", [](nlohmann::json& k) { k["lora_rank_decay"] = 8; });
  EXPECT_NE(msg.find("self_attn.w1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
  msg = broken("layers", [](nlohmann::json& k) { k["num_hidden_layers"] = 3; });
  EXPECT_NE(msg.find("model.layers.2."), std::string::npos) << msg;
  msg = broken("form", [](nlohmann::json& k) { k["balance_state"] = false; });  // neither form
  EXPECT_NE(msg.find("balance_state"), std::string::npos) << msg;
  msg = broken("hybrid", [](nlohmann::json& k) { k["num_attention_layers"] = 1; });  // layer 1 is no attention
  EXPECT_NE(msg.find("model.layers.1.self_attn"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(RadConfig, LoraRanksFollowTheirRule) {
  // spec radlads.md §3.4: 7B, 32B, 72B widths.
  for (auto [D, w, v, g] : {std::tuple{3584, 96, 64, 416}, {5120, 128, 96, 544}, {8192, 160, 128, 800}}) {
    EXPECT_EQ(radlads::lora_rank(D, 0.5, 1.8), w) << D;
    EXPECT_EQ(radlads::lora_rank(D, 0.5, 1.3), v) << D;
    EXPECT_EQ(radlads::lora_rank(D, 0.8, 0.6), g) << D;
  }
  EXPECT_EQ(radlads::lora_rank(128, 0.5, 1.8), 32);  // the floor of one block of 32
}

// A hybrid keeps its last layer as the teacher's attention: that layer's weights are the
// teacher's and Step 1 aligns only the converted layer (no gradient reaches the kept attention).
TEST(RadHybrid, TheLastLayerStaysTheTeachersAttention) {
  GANDER_REQUIRE_TESTDATA("radlads/teacher/model.safetensors");
  std::shared_ptr<models::Decoder> teacher = load_teacher(true);
  radlads::Config c = student_config(TimeMix7Config::Form::RadBalanced);
  c.attention_layers = 1;
  const std::unique_ptr<models::Decoder> d = radlads::from_teacher(*teacher, c, 7);
  std::map<std::string, const models::Param*> theirs;
  for (const models::Param& p : teacher->params().params) theirs[p.name] = &p;
  int kept = 0;
  for (const models::Param& p : d->params().params)
    if (p.name.starts_with("model.layers.1.self_attn.")) {
      ASSERT_TRUE(theirs.count(p.name)) << p.name << " is not an attention tensor";
      EXPECT_EQ(test::max_diff(*p.slot, *theirs[p.name]->slot), 0) << p.name;
      ++kept;
    }
  EXPECT_EQ(kept, 7);  // q/k/v weights and biases, o
  models::Gradients g(d->params(),
                      [](const models::Param& p) { return p.name.find(".self_attn.") != std::string::npos; });
  const FlatBatch b = flat_batch();
  const double loss = d->align_step(*teacher, b.view(), g);
  EXPECT_GT(loss, 0);
  const auto& params = d->params().params;
  double converted = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!g.by_index()[i].defined()) continue;
    double m = 0;
    for (float v : g.by_index()[i].to_f32_vector()) m = std::max(m, double(std::fabs(v)));
    if (params[i].name.starts_with("model.layers.1.")) EXPECT_EQ(m, 0) << params[i].name;
    else converted = std::max(converted, m);
  }
  EXPECT_GT(converted, 0);
  c.attention_layers = 2;  // every layer kept: a student with nothing to align
  const std::unique_ptr<models::Decoder> none = radlads::from_teacher(*teacher, c, 7);
  models::Gradients g2(none->params());
  EXPECT_NE(test::error_of([&] { none->align_step(*teacher, b.view(), g2); }).find("no converted layer"),
            std::string::npos);
}

}  // namespace
}  // namespace gander
