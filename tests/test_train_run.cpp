// `gander train`: the configuration (every key documented, typos and wrong types refused with
// file and line), the schedules against their formulas, and whole runs through the command line:
// a run killed with SIGKILL and resumed reproduces the uninterrupted run bit for bit; the trained
// model is a folder the other commands load and score as the run did; state tuning writes a state
// --time-state reads; a failed checkpoint write leaves the last good one; bad input is refused
// before any step; under mpirun two processes follow one process's curve.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <thread>

#include "cli_process.h"
#include "core/rng.h"
#include "io/binidx.h"
#include "io/checkpoint.h"
#include "io/read_file.h"
#include "testdata.h"
#include "train/comm.h"
#include "train/run_config.h"
#include "train/schedule.h"

namespace gander {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

TEST(TrainConfig, EveryKeyIsDocumentedInTrainingMd) {
  const std::string doc = io::read_file(std::string(GANDER_SOURCE_DIR) + "/docs/training.md", 1 << 20, "doc");
  for (const train::ConfigKey& k : train::config_keys())
    EXPECT_NE(doc.find(std::string("`") + k.name + "`"), std::string::npos) << k.name << " is not in docs/training.md";
}

const char* kMinimal = "run:\n  out: o\n  steps: 3\nmodel:\n  shape: rwkv7:L1,D64,V97\ndata:\n  train: shard\n";

TEST(TrainConfig, TyposWrongTypesAndMissingKeysAreNamedWithTheirLine) {
  auto err = [](const std::string& yaml, std::vector<std::string> sets = {}) {
    return test::error_of([&] { train::parse_run_config(yaml, "c.yaml", sets); });
  };
  EXPECT_EQ(err(kMinimal), "");
  const train::RunConfig c = train::parse_run_config(std::string(kMinimal) + "optimizer:\n  lr: 3e-4\n", "c.yaml",
                                                     {"optimizer.schedule=linear", "model.train=[blocks.0.*, head.*]"});
  EXPECT_EQ(c.lr, 3e-4);
  EXPECT_EQ(c.schedule, "linear");
  EXPECT_EQ(c.train, (std::vector<std::string>{"blocks.0.*", "head.*"}));
  EXPECT_EQ(c.steps, 3);
  EXPECT_EQ(c.seq, 512);  // the default
  std::string e = err(std::string(kMinimal) + "optimizer:\n  lr_max: 1\n");
  EXPECT_NE(e.find("c.yaml:9: key 'optimizer.lr_max': unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("optimizer.lr_final"), std::string::npos) << e;  // the section's keys are listed
  e = err(std::string(kMinimal) + "optimizer:\n  lr: fast\n");
  EXPECT_NE(e.find("c.yaml:9: key 'optimizer.lr': expected a number, got 'fast'"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "data:\n  seq: [1]\n");
  EXPECT_NE(e.find("key 'data.seq': expected an integer, got a list"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "optimizer:\n  schedule: cosine2\n");
  EXPECT_NE(e.find("'cosine2' is not one of constant,linear,cosine,quarter_cosine"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "checkpoint:\n  keep: 0\n");
  EXPECT_NE(e.find("key 'checkpoint.keep': 0 is outside [1,"), std::string::npos) << e;
  e = err(kMinimal, {"run.stpes=4"});
  EXPECT_NE(e.find("--set run.stpes: unknown key"), std::string::npos) << e;
  e = err("run:\n  out: o\n  steps: 3\ndata:\n  train: s\n");
  EXPECT_NE(e.find("give exactly one of model.from"), std::string::npos) << e;
  e = err(std::string(kMinimal), {"run.tokens=100"});
  EXPECT_NE(e.find("exactly one of run.steps and run.tokens"), std::string::npos) << e;
  e = err("run: [1, 2\n");
  EXPECT_NE(e.find("c.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("not valid YAML"), std::string::npos) << e;
  e = err("lr: 1\n");
  EXPECT_NE(e.find("a top-level key"), std::string::npos) << e;
}

// The formulas as spec/rwkv7.md §5.2 and spec/radlads.md write them.
TEST(TrainSchedule, WarmupThenTheScheduleOverTheRestOfTheRun) {
  train::Schedule s{"cosine", 1e-3, 1e-5, 0.01, 10, 110};
  EXPECT_DOUBLE_EQ(s.at(0), 1e-3 * 0.01);
  EXPECT_DOUBLE_EQ(s.at(5), 1e-3 * (0.01 + 0.99 * 0.5));
  EXPECT_DOUBLE_EQ(s.at(10), 1e-3);
  const double f = 1e-5 / 1e-3;
  EXPECT_NEAR(s.at(60), 1e-3 * ((0.5 + f / 2) + (0.5 - f / 2) * std::cos(std::numbers::pi * 0.5)), 1e-15);
  EXPECT_NEAR(s.at(110), 1e-5, 1e-15);
  EXPECT_NEAR(s.at(500), 1e-5, 1e-15);
  s.kind = "quarter_cosine";
  EXPECT_NEAR(s.at(60), 1e-5 + (1e-3 - 1e-5) * std::cos(std::numbers::pi * 0.25), 1e-15);
  EXPECT_NEAR(s.at(110), 1e-5, 1e-15);
  s.kind = "linear";
  EXPECT_NEAR(s.at(35), 1e-3 + (1e-5 - 1e-3) * 0.25, 1e-15);
  s.kind = "constant";
  EXPECT_DOUBLE_EQ(s.at(90), 1e-3);
  EXPECT_DOUBLE_EQ(s.at(3), 1e-3 * (0.01 + 0.99 * 0.3));
}

// RADLADS Step 2a's mixer schedule: held at lr until 83.3 % of the run, a quarter cosine to
// lr_final by 87.5 %, then held (spec/radlads.md §6.4, the code's lr_wait / lr_endpoint).
TEST(TrainSchedule, DecayWindowHoldsBeforeAndAfter) {
  train::Schedule s{"quarter_cosine", 1e-4, 1e-5, 0.01, 0, 1000, 0.833, 0.875};
  EXPECT_DOUBLE_EQ(s.at(100), 1e-4);
  EXPECT_DOUBLE_EQ(s.at(833), 1e-4);
  const double q = (0.854 - 0.833) / (0.875 - 0.833);
  EXPECT_NEAR(s.at(854), 1e-5 + (1e-4 - 1e-5) * std::cos(std::numbers::pi * q / 2), 1e-15);
  EXPECT_NEAR(s.at(875), 1e-5, 1e-15);
  EXPECT_NEAR(s.at(999), 1e-5, 1e-15);
}

// A learnable stream of ids below 97 (a noisy walk: next = 7 * prev + 0..2 mod 97), as a shard.
void write_walk_shard(const std::string& prefix, int64_t tokens, uint64_t seed, int32_t vocab = 97) {
  io::BinidxWriter w(prefix, io::TokenWidth::U16);
  Rng rng(seed);
  std::vector<int32_t> doc;
  int32_t t = 1;
  for (int64_t i = 0; i < tokens; ++i) {
    t = int32_t((7 * t + int32_t(rng.below(3))) % vocab);
    doc.push_back(t);
    if (doc.size() == 1000) {
      w.add_document(doc);
      doc.clear();
    }
  }
  if (!doc.empty()) w.add_document(doc);
  w.commit();
}

std::vector<nlohmann::json> metrics(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::ifstream in(out + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // While a run writes, the last line may be read half written: it is counted once whole.
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) v.push_back(std::move(j));
  }
  return v;
}
// "step loss grad_norm" per training step, as written (every digit).
std::vector<std::string> losses(const std::string& out) {
  std::vector<std::string> v;
  for (const auto& j : metrics(out))
    if (j.contains("loss")) v.push_back(concat(j["step"].dump(), " ", j["loss"].dump(), " ", j["grad_norm"].dump()));
  return v;
}

class TrainRun : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gander_train_" + std::to_string(getpid()) + "_" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_walk_shard(at("train"), 60000, 1);
    write_walk_shard(at("valid"), 3000, 2);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  std::string config(const std::string& extra, int64_t steps = 30, const std::string& shape = "rwkv7:L2,D64,V97") {
    const std::string path = at("run.yaml");
    std::ofstream(path) << "run:\n  out: " << at("out") << "\n  steps: " << steps << "\n  seed: 3\nmodel:\n  shape: "
                        << shape << "\ndata:\n  train: " << at("train") << "\n  valid: " << at("valid")
                        << "\n  seq: 32\n  batch: 4\noptimizer:\n  lr: 3e-3\n  lr_final: 3e-4\n  warmup_steps: 5\n"
                        << "eval:\n  every: 10\n  tokens: 1024\ncheckpoint:\n  every: 5\n  keep: 2\n"
                        << extra;
    return path;
  }
  fs::path dir_;
};

TEST_F(TrainRun, AKilledRunResumesBitForBit) {
  const std::string cfg = config("", 120);
  const auto whole = run_cli("train " + cfg + " --threads 2 --set run.out=" + at("whole"));
  ASSERT_EQ(whole.code, 0) << whole.out;
  const std::vector<std::string> expected = losses(at("whole"));
  ASSERT_EQ(expected.size(), 120u);
  // Kill it with SIGKILL at a random step after its first checkpoint, then resume.
  Rng rng(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  const int64_t kill_after = 7 + int64_t(rng.below(100));
  test::Child child({"train", cfg, "--threads", "2"});
  for (int i = 0; i < 6000 && int64_t(losses(at("out")).size()) < kill_after; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  child.signal(SIGKILL);
  const auto killed = child.finish(30);
  ASSERT_EQ(killed.code, 128 + SIGKILL) << "the run ended before it was killed (at step " << kill_after << ")";
  const size_t done = losses(at("out")).size();
  ASSERT_LT(done, 120u);
  const auto resumed = run_cli("train " + cfg + " --threads 2 --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("resumed from"), std::string::npos) << resumed.out;
  EXPECT_EQ(losses(at("out")), expected) << "killed after " << done << " steps";
  EXPECT_EQ(io::read_file(at("out/final/model.safetensors"), 1 << 30, "m"),
            io::read_file(at("whole/final/model.safetensors"), 1 << 30, "m"));
  // Both runs in one picture (PLplot, cairo): a PNG and an SVG.
  for (const char* ext : {".png", ".svg"}) {
    const std::string pic = at(std::string("curves") + ext);
    const auto p = run_cli("plot " + at("whole/metrics.jsonl") + " " + at("out/metrics.jsonl") + " -o " + pic);
    ASSERT_EQ(p.code, 0) << p.out;
    const std::string bytes = io::read_file(pic, 1 << 26, "picture");
    EXPECT_GT(bytes.size(), 1000u) << ext;
    EXPECT_TRUE(std::string(ext) == ".png" ? bytes.starts_with("\x89PNG") : bytes.find("<svg") != std::string::npos)
        << ext;
  }
  for (auto [args, fragment] : {std::pair<std::string, std::string>{at("nothing.jsonl") + " -o " + at("p.png"),
                                                                     "nothing.jsonl: cannot read metrics"},
                                {at("whole/metrics.jsonl") + " -o " + at("p.gif"), "must be a .png or an .svg"},
                                {at("run.yaml") + " -o " + at("p.png"), "run.yaml:1: not a JSON object"}}) {
    const auto p = run_cli("plot " + args);
    EXPECT_NE(p.code, 0) << args;
    EXPECT_NE(p.out.find(fragment), std::string::npos) << p.out;
  }
  // keep: 2
  int n = 0;
  for (const auto& e : fs::directory_iterator(at("out/checkpoints"))) n += e.path().extension() == ".safetensors";
  EXPECT_EQ(n, 2);
}

// The final folder runs in the other commands and scores the validation shard as the run did.
TEST_F(TrainRun, TheTrainedModelLoadsAndScoresAsTheRunMeasured) {
  for (const char* shape : {"rwkv7:L2,D64,V97", "qwen2:L2,D64,H2,KV1,I96,V97"}) {
    fs::remove_all(at("out"));
    const auto r = run_cli("train " + config("", 30, shape) + " --json --set eval.tokens=100000");
    ASSERT_EQ(r.code, 0) << r.out;
    const auto m = metrics(at("out"));
    const nlohmann::json& last = m.back();
    ASSERT_TRUE(last.contains("valid_perplexity")) << last.dump();
    EXPECT_LT(last["valid_loss"].get<double>(), m.front()["valid_loss"].get<double>() - 1.0) << shape << ": no learning";
    const auto p = run_cli("perplexity " + at("out/final") + " --shards " + at("valid") + " --ctx 32 --json");
    ASSERT_EQ(p.code, 0) << p.out;
    const auto j = nlohmann::json::parse(p.out.substr(p.out.find('{')));
    EXPECT_NEAR(j["perplexity"].get<double>(), last["valid_perplexity"].get<double>(),
                1e-4 * last["valid_perplexity"].get<double>())
        << shape;
    EXPECT_EQ(run_cli("inspect " + at("out/final")).code, 0) << shape;
  }
}

// Fine-tuning a subset: the frozen tensors of the final model are the source's, bit for bit.
TEST_F(TrainRun, FrozenParametersOfALoadedModelStayAsTheyWere) {
  const auto fresh = run_cli("train " + config("", 5) + " --set run.out=" + at("base"));
  ASSERT_EQ(fresh.code, 0) << fresh.out;
  fs::remove_all(at("out"));
  std::ofstream(at("ft.yaml")) << "run:\n  out: " << at("out") << "\n  steps: 5\nmodel:\n  from: " << at("base/final")
                               << "\n  train: ['blocks.1.*']\n  freeze: ['blocks.1.ffn.*']\ndata:\n  train: "
                               << at("train") << "\n  seq: 32\n  batch: 4\n";
  const auto r = run_cli("train " + at("ft.yaml"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("no validation data"), std::string::npos) << r.out;
  const auto c1 = run_cli("inspect " + at("base/final") + " --json"), c2 = run_cli("inspect " + at("out/final") + " --json");
  ASSERT_EQ(c1.code, 0);
  ASSERT_EQ(c2.code, 0);
  EXPECT_NE(c1.out, c2.out);  // the fingerprint moved
  const io::Checkpoint a = io::load_checkpoint(at("base/final/model.safetensors"));
  const io::Checkpoint b = io::load_checkpoint(at("out/final/model.safetensors"));
  for (const std::string& name : a.names()) {
    const bool trained = name.starts_with("model.layers.1.attn.");
    const double d = test::max_diff(a.get(name), b.get(name));
    if (trained && name.find("_lora.lora.0") == std::string::npos) {
      EXPECT_GT(d, 0) << name;
    }
    if (!name.starts_with("model.layers.1.") || name.starts_with("model.layers.1.ffn.")) {
      EXPECT_EQ(d, 0) << name;
    }
  }
}

// State tuning on a narrow text: only the initial state moves; the state file it writes lowers
// the model's perplexity on that text when given to --time-state.
TEST_F(TrainRun, StateTuningWritesAStateThatLowersPerplexityWhereItWasTuned) {
  const std::string model = test::testdata("rwkv7/tiny/model_f32.pth");
  if (!fs::exists(model)) GTEST_SKIP() << "test data not found: " << model;
  {  // a narrow "text": one phrase of 13 ids, over and over, each document starting at its start
    io::BinidxWriter w(at("narrow"), io::TokenWidth::U16);
    std::vector<int32_t> doc;
    for (int i = 0; i < 64 * 13; ++i) doc.push_back(int32_t(11 + 37 * (i % 13)));
    for (int d = 0; d < 40; ++d) w.add_document(doc);
    w.commit();
  }
  std::ofstream(at("st.yaml")) << "run:\n  out: " << at("out") << "\n  steps: 30\nmodel:\n  from: " << model
                               << "\n  state_tuning: true\ndata:\n  train: " << at("narrow")
                               << "\n  valid_tokens: 2000\n  seq: 52\n  batch: 4\noptimizer:\n  lr: 1\n  lr_final: "
                               << "0.01\n  warmup_steps: 5\neval:\n  tokens: 1024\n";
  const auto r = run_cli("train " + at("st.yaml") + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_TRUE(fs::exists(at("out/time_state.safetensors")));
  auto ppl = [&](const std::string& extra) {
    const auto p = run_cli("perplexity " + model + " --shards " + at("narrow") + " --ctx 52 --json " + extra);
    EXPECT_EQ(p.code, 0) << p.out;
    return nlohmann::json::parse(p.out.substr(p.out.find('{')))["perplexity"].get<double>();
  };
  const double before = ppl(""), after = ppl("--time-state " + at("out/time_state.safetensors"));
  EXPECT_LT(after, 0.5 * before) << before << " -> " << after;
  // The checkpoint holds the state alone (weights are the source's).
  const io::Checkpoint ck = io::load_checkpoint(at("out/checkpoints/step-00000030.safetensors"));
  for (const std::string& n : ck.names()) EXPECT_NE(n.find(".wkv"), std::string::npos) << n;
}

// A checkpoint that cannot be written (a file-size limit, as a full disk fails) stops the run
// with the path and the cause; the last good checkpoint is still there and resumes.
TEST_F(TrainRun, AFailedCheckpointWriteLeavesTheLastGoodOne) {
  const std::string cfg = config("", 30, "rwkv7:L2,D64,V2000");
  ASSERT_EQ(run_cli("train " + cfg + " --set run.steps=5").code, 0);
  const auto size = fs::file_size(at("out/checkpoints/step-00000005.safetensors"));
  // ulimit -f counts 512-byte blocks; big enough for the metrics, too small for a checkpoint.
  const auto r = test::run_cli_shell("ulimit -f " + std::to_string(size / 1024) + "; exec " +
                                     std::string(GANDER_CLI_PATH) + " train " + cfg + " --resume");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("step-00000010.safetensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("File too large"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(at("out/checkpoints/step-00000010.safetensors")));
  ASSERT_TRUE(fs::exists(at("out/checkpoints/step-00000005.safetensors")));
  const auto again = run_cli("train " + cfg + " --resume");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("resumed from " + at("out/checkpoints/step-00000005.safetensors")), std::string::npos);
}

TEST_F(TrainRun, BadInputIsRefusedBeforeAnyStepAndOverwritesNothing) {
  const std::string cfg = config("");
  auto fails_with = [&](const std::string& args, const std::string& fragment) {
    const auto r = run_cli(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_NE(r.out.find(fragment), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(r.out.find("step 1/"), std::string::npos) << args << ": a step ran";
  };
  fails_with("train " + cfg + " --resume", "--resume, but there is no checkpoint");
  fails_with("train " + cfg + " --set data.train=" + at("nothing"), "nothing.idx");
  fails_with("train " + cfg + " --set model.shape=rwkv7:L2,D64,V50", "outside the model's vocabulary");
  fails_with("train " + cfg + " --set model.shape=mamba:L2", "mamba");
  fails_with("train " + cfg + " --set model.train=[blocks.9.*]", "'blocks.9.*' (train) matches no parameter");
  fails_with("train " + cfg + " --set model.from=" + at("train.bin") + " --set model.shape=", "train.bin");
  fails_with("train " + at("missing.yaml"), "missing.yaml");
  ASSERT_EQ(run_cli("train " + cfg + " --set run.steps=5").code, 0);
  const std::string before = io::read_file(at("out/metrics.jsonl"), 1 << 20, "m");
  fails_with("train " + cfg, "holds a run already");
  fails_with("train " + cfg + " --resume --set model.shape=rwkv7:L2,D128,V97", "a checkpoint of a rwkv7 L2 D64");
  fails_with("train " + cfg + " --resume --set optimizer.lr=1e-2", "other model/data/optimizer settings");
  EXPECT_EQ(io::read_file(at("out/metrics.jsonl"), 1 << 20, "m"), before);
  // A corrupt checkpoint is named.
  const std::string ck = at("out/checkpoints/step-00000005.safetensors");
  fs::resize_file(ck, fs::file_size(ck) / 2);
  fails_with("train " + cfg + " --resume", "step-00000005.safetensors");
  // A shard from another tokenizer (its PREFIX.json names another vocabulary).
  const std::string vocab = test::testdata("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  const std::string bpe = test::testdata("qwen2/qwen2-tiny");
  if (fs::exists(vocab) && fs::exists(bpe)) {
    std::ofstream(at("doc.txt")) << "Some text for a shard.\n";
    ASSERT_EQ(run_cli("data build " + at("doc.txt") + " --tokenizer " + bpe + " -o " + at("bpe")).code, 0);
    fails_with("train " + cfg + " --set run.out=" + at("o2") + " --set data.train=" + at("bpe") +
                   " --set data.tokenizer=" + vocab + " --set model.shape=rwkv7:L1,D64,V65536",
               "bpe");
  }
}

// Data parallel: two processes with half the batch each follow one process's loss curve.
TEST_F(TrainRun, TwoMpiProcessesFollowOneProcess) {
  if (!train::built_with_mpi()) GTEST_SKIP() << "gander was built without MPI";
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not found";
  const std::string cfg = config("", 20);
  ASSERT_EQ(run_cli("train " + cfg + " --threads 1 --set run.out=" + at("one")).code, 0);
  const auto two = test::run_cli_shell(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "
      "mpirun -np 2 --oversubscribe --bind-to none " +
      std::string(GANDER_CLI_PATH) + " train " + cfg + " --threads 1 --json");
  ASSERT_EQ(two.code, 0) << two.out;
  EXPECT_NE(two.out.find("\"processes\":2"), std::string::npos) << two.out;
  const auto a = metrics(at("one")), b = metrics(at("out"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].contains("loss")) continue;
    const double x = a[i]["loss"].get<double>(), y = b[i]["loss"].get<double>();
    EXPECT_NEAR(y, x, 1e-4 * x) << "step " << a[i]["step"];
  }
  // Resume under MPI.
  fs::remove(at("out/checkpoints/step-00000020.safetensors"));
  fs::remove_all(at("out/final"));
  const auto resumed = test::run_cli_shell(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 --oversubscribe --bind-to none " +
      std::string(GANDER_CLI_PATH) + " train " + cfg + " --threads 1 --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_EQ(metrics(at("out")).size(), a.size());
}

}  // namespace
}  // namespace gander
