// RADLADS steps as `gander train` runs them: a Qwen2 teacher (the qwen2-tiny golden model)
// converted into a RAD-RWKV7 student by the RADLADS init (model.convert), Step 1 (objective
// align: only the mixers, towards the teacher's attention outputs) and Step 2 (objective
// distill: KL to the teacher, every parameter) from Step 1's output folder; each writes a
// release-layout student folder the other commands load, and reports the teacher's perplexity
// beside the student's. Bad combinations are refused before any step.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "testdata.h"

namespace gander {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

class RadladsRun : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gander_radlads_" + std::to_string(getpid()) + "_" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  // Shards of generated English in the teacher's tokenizer.
  void shards() {
    const char* who[] = {"The miller", "A small girl", "The old captain", "Her brother", "The cat"};
    const char* did[] = {"walked to the river", "found a letter", "sang a quiet song", "closed the door",
                         "looked at the sea"};
    const char* when[] = {"in the morning.", "before the storm.", "after supper.", "when the bells rang.",
                          "without a word."};
    for (auto [name, seed, lines] : {std::tuple{"train", 1u, 1500}, {"valid", 2u, 200}}) {
      std::ofstream f(at(std::string(name) + ".txt"));
      uint32_t x = seed;
      for (int i = 0; i < lines; ++i) {
        auto pick = [&](uint32_t n) { return ((x = x * 1664525u + 1013904223u) >> 16) % n; };
        f << who[pick(5)] << " " << did[pick(5)] << " " << when[pick(5)] << (i % 7 == 6 ? "\n" : " ");
      }
      const auto r = run_cli("data build --tokenizer " + teacher_ + " " + at(std::string(name) + ".txt") + " -o " +
                             at(name));
      ASSERT_EQ(r.code, 0) << r.out;
    }
  }
  std::string config(const std::string& name, const std::string& model, int steps, const std::string& lr) {
    const std::string path = at(name + ".yaml");
    std::ofstream(path) << "run:\n  out: " << at(name) << "\n  steps: " << steps << "\nmodel:\n" << model
                        << "data:\n  train: " << at("train") << "\n  valid: " << at("valid")
                        << "\n  seq: 64\n  batch: 4\noptimizer:\n  schedule: quarter_cosine\n  lr: " << lr
                        << "\n  lr_final: 1e-5\n  beta2: 0.95\n  warmup_steps: 3\neval:\n  every: " << steps
                        << "\n  tokens: 2048\ncheckpoint:\n  every: " << steps << "\n";
    return path;
  }
  static std::vector<nlohmann::json> metrics(const std::string& out) {
    std::vector<nlohmann::json> rows;
    std::ifstream f(out + "/metrics.jsonl");
    for (std::string line; std::getline(f, line);)
      if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
    return rows;
  }
  fs::path dir_;
  std::string teacher_ = test::testdata("qwen2/qwen2-tiny");
};

TEST_F(RadladsRun, ConvertAlignThenDistill) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  shards();
  // Step 1: the RADLADS init from the teacher, then only the mixers train.
  const std::string s1 = config("s1", "  from: " + teacher_ + "\n  convert: rad_rwkv7\n  objective: align\n"
                                      "  train: [\"model.layers.*.self_attn.*\"]\n", 12, "1e-3");
  auto r = run_cli("train " + s1 + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto rows = metrics(at("s1"));
  ASSERT_FALSE(rows.empty());
  EXPECT_TRUE(rows[0].contains("teacher_valid_perplexity")) << rows[0];
  const double teacher_ppl = rows[0]["teacher_valid_perplexity"];
  std::vector<double> loss, valid;
  for (const auto& j : rows) {
    if (j.contains("loss")) loss.push_back(j["loss"]);
    if (j.contains("valid_perplexity")) valid.push_back(j["valid_perplexity"]);
  }
  ASSERT_EQ(loss.size(), 12u);
  EXPECT_LT(loss.back(), 0.8 * loss.front()) << "the alignment loss did not fall";
  ASSERT_EQ(valid.size(), 2u);
  EXPECT_LT(valid.back(), valid.front()) << "aligning the mixers did not help the student";
  // The release's layout: model_type rwkv7qwen2, the student's own keys; it loads and scores as
  // the run measured it.
  std::ifstream cfg(at("s1/final/config.json"));
  const auto j = nlohmann::json::parse(cfg);
  EXPECT_EQ(j["model_type"], "rwkv7qwen2");
  EXPECT_EQ(j["balance_state"], true);
  EXPECT_EQ(j["num_hidden_layers"], 2);
  r = run_cli("perplexity " + at("s1/final") + " --shards " + at("valid") + " --ctx 64 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const double scored = nlohmann::json::parse(r.out.substr(r.out.find('{')))["perplexity"];
  // (the run scores its first 2,048 + 1 validation tokens; the command the whole shard)
  EXPECT_GT(scored, 0.5 * valid.back());
  EXPECT_LT(scored, 2.0 * valid.back());
  r = run_cli("generate " + at("s1/final") + " --prompt 'The cat' -n 8 --temperature 0");
  EXPECT_EQ(r.code, 0) << r.out;

  // Step 2 from Step 1's student: every parameter, towards the teacher's distributions.
  const std::string s2 = config("s2", "  from: " + at("s1/final") + "\n  teacher: " + teacher_ +
                                          "\n  objective: distill\n", 12, "3e-4");
  r = run_cli("train " + s2 + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  rows = metrics(at("s2"));
  EXPECT_EQ(rows[0]["teacher_valid_perplexity"].get<double>(), teacher_ppl);
  std::vector<double> valid2;
  for (const auto& k : rows)
    if (k.contains("valid_perplexity")) valid2.push_back(k["valid_perplexity"]);
  ASSERT_EQ(valid2.size(), 2u);
  EXPECT_NEAR(valid2.front(), valid.back(), 1e-6 * valid.back());  // where Step 1 ended
  EXPECT_LT(valid2.back(), valid2.front()) << "distillation did not lower the student's perplexity";
  std::ifstream cfg2(at("s2/final/config.json"));
  EXPECT_EQ(nlohmann::json::parse(cfg2)["model_type"], "rwkv7qwen2");
  // Resuming the finished step is refused only when asked for more; --resume at its end is a no-op.
  r = run_cli("train " + s2 + " --resume --json");
  EXPECT_EQ(r.code, 0) << r.out;
}

// The protocol as one command: a recipe's steps 1, 2, 3 chained, the report (teacher and
// student perplexity after every step, their ratio), a gate that stops the conversion, and
// --resume going on after the gate is raised.
TEST_F(RadladsRun, RecipeChainsTheStepsGatesAndResumes) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  shards();
  const std::string recipe = at("r.yaml");
  std::ofstream(recipe) << "teacher: " << teacher_ << "\nout: " << at("conv") << "\ndata:\n  train: " << at("train")
                        << "\n  valid: " << at("valid") << "\n  seq: 64\n  batch: 4\noptimizer:\n  warmup_steps: 3\n"
                        << "eval:\n  every: 0\n  tokens: 2048\ncheckpoint:\n  every: 5\nreport:\n  ctx: 64\n  tokens: 4096\n"
                        << "step1:\n  steps: 12\n  gate: 1.0\nstep2:\n  steps: 12\n  lr: 3e-4\n  lr_final: 3e-4\n"
                        << "step3:\n  steps: 4\n  seq: 128\n  batch: 2\n  lr: 3e-5\n  lr_final: 3e-5\n";
  auto r = run_cli("convert " + recipe + " --json");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("step1 did not pass its gate"), std::string::npos) << r.out;
  auto report = [&] { return nlohmann::json::parse(std::ifstream(at("conv/report.json"))); };
  nlohmann::json j = report();
  ASSERT_EQ(j["steps"].size(), 1u) << j;
  const double teacher = j["teacher_perplexity"], after1 = j["steps"][0]["ratio"];
  EXPECT_GT(teacher, 1.0);
  EXPECT_GT(after1, 1.0);  // above the gate of 1
  EXPECT_FALSE(fs::exists(at("conv/step2")));
  // A new conversion into the same folder is refused; --resume with the gate raised goes on.
  r = run_cli("convert " + recipe);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("holds a conversion already"), std::string::npos) << r.out;
  r = run_cli("convert " + recipe + " --resume --set step1.gate=0 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("step1: done"), std::string::npos) << r.out;
  j = report();
  ASSERT_EQ(j["steps"].size(), 3u) << j;
  EXPECT_EQ(j["steps"][2]["name"], "step3");
  EXPECT_LT(j["steps"][1]["ratio"].get<double>(), after1) << "distillation did not bring the student closer";
  EXPECT_EQ(j["teacher_perplexity"].get<double>(), teacher);
  EXPECT_EQ(j["steps"][2]["tokens"], 4 * 128 * 2);
  const nlohmann::json last = nlohmann::json::parse(r.out.substr(r.out.rfind("\n{") + 1));
  EXPECT_EQ(last["steps"].size(), 3u);
  EXPECT_TRUE(fs::file_size(at("conv/curves.png")) > 0);
  r = run_cli("generate " + at("conv/step3/final") + " --prompt 'The cat' -n 4 --temperature 0");
  EXPECT_EQ(r.code, 0) << r.out;
  // Redoing a step: its folder removed, the steps after it must go too; then it runs again.
  fs::remove_all(at("conv/step2"));
  r = run_cli("convert " + recipe + " --resume");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find(at("conv/step3") + ": comes after step2"), std::string::npos) << r.out;
  fs::remove_all(at("conv/step3"));
  r = run_cli("convert " + recipe + " --resume --set step1.gate=0");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(report()["steps"].size(), 3u);
  // A teacher that is not Qwen2 is refused before any step runs.
  std::ofstream(at("bad.yaml")) << "teacher: " << at("conv/step3/final") << "\nout: " << at("bad")
                                << "\ndata:\n  train: " << at("train") << "\n  valid: " << at("valid") << "\n";
  r = run_cli("convert " + at("bad.yaml"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("the teacher is a rad_rwkv7 model"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(at("bad")));
  // Shards of another tokenizer than the teacher's are refused before the teacher is scored.
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  r = run_cli("data build --tokenizer " + test::testdata("rwkv7/tokenizer/rwkv_vocab_v20230424.txt") + " " + at("valid.txt") +
              " -o " + at("world"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ofstream(at("bad.yaml")) << "teacher: " << teacher_ << "\nout: " << at("bad") << "\ndata:\n  train: "
                                << at("world") << "\n  valid: " << at("valid") << "\n";
  r = run_cli("convert " + at("bad.yaml"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find(at("world")), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("validation perplexity"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(at("bad")));
}

TEST_F(RadladsRun, BadCombinationsAreRefusedBeforeAnyStep) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  shards();
  auto refused = [&](const std::string& model, const std::string& want) {
    const auto r = run_cli("train " + config("bad", model, 2, "1e-3"));
    EXPECT_NE(r.code, 0) << model;
    EXPECT_NE(r.out.find(want), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(at("bad/metrics.jsonl"))) << model;
    fs::remove_all(at("bad"));
  };
  refused("  from: " + teacher_ + "\n  objective: align\n", "needs model.teacher");
  refused("  from: " + teacher_ + "\n  convert: rad_rwkv7:Q1\n", "unknown option 'Q'");
  refused("  from: " + teacher_ + "\n  convert: qwen2\n", "is not converted from a teacher");
  refused("  from: " + teacher_ + "\n  convert: rad_rwkv7:A3\n", "num_attention_layers 3");
  refused("  shape: rwkv7:L2,D64,V8256\n  convert: rad_rwkv7\n", "model.convert needs model.from");
  refused("  from: " + teacher_ + "\n  teacher: " + teacher_ + "\n", "model.objective lm trains without a teacher");
}

}  // namespace
}  // namespace gander
