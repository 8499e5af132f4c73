// The command line end to end: exit codes, one-line errors, and the forward tool against goldens.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "io/npy.h"
#include "testdata.h"

namespace gander {
namespace {

using Result = test::CliResult;
Result run(const std::string& args, const std::string& stdin_text = "") { return test::run_cli(args, stdin_text); }

std::string td(const std::string& rel) { return test::testdata(rel); }

void expect_error(const Result& r, const std::string& fragment) {
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(fragment), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line expected: " << r.out;
}

// A small random model, so it needs no test data: the JSON report carries every figure, each
// share a ratio to limits probed in the same run.
TEST(Cli, BenchReportsSpeedsAndShares) {
  const Result r = run("bench --random rwkv7:L2,D128,V512 --prompt-tokens 16 --gen-tokens 4 --reps 2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["reps"], 2);
  for (const char* key : {"prefill_tokens_per_s", "decode_tokens_per_s", "read_bandwidth_gbs", "matmul_peak_gflops",
                          "prefill_fraction_of_matmul_peak", "decode_fraction_of_ceiling", "peak_rss_mib"})
    EXPECT_GT(j[key].get<double>(), 0) << key;
  // The chunked prefill and the token-by-token step agree on the last logits.
  EXPECT_GT(j["prefill_vs_step_logit_scale"].get<double>(), 0);
  EXPECT_LT(j["prefill_vs_step_max_diff"].get<double>(), 1e-3 * j["prefill_vs_step_logit_scale"].get<double>());
  expect_error(run("bench --random rwkv7:L2,D128,V512 --reps 0"), "--reps");
}

TEST(Cli, ForwardMatchesTheGoldens) {
  GANDER_REQUIRE_TESTDATA("rwkv7/small/model_bf16.pth");
  std::ifstream f(td("rwkv7/small/ids.json"));
  const auto ids = nlohmann::json::parse(f)["ids"];
  const std::string ids_path = test::temp_path("ids.json"), out = test::temp_path("logits.npy");
  std::ofstream(ids_path) << ids.dump();
  const Result r = run("forward " + td("rwkv7/small/model_bf16.pth") + " --ids " + ids_path + " --logits-out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto got = io::load_npy(out).to_f32_vector(), want = io::load_npy(td("rwkv7/small/logits_rnn.npy")).to_f32_vector();
  ASSERT_EQ(got.size(), want.size());
  double d = 0;
  for (size_t i = 0; i < got.size(); ++i) d = std::max(d, std::fabs(double(got[i]) - want[i]));
  EXPECT_LE(d, 5e-5);
}

TEST(Cli, BadInputGivesOneLineErrors) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tiny/model_f32.pth");
  const std::string tiny = td("rwkv7/tiny/model_f32.pth"), vocab = td("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  expect_error(run("generate " + tiny + " --tokenizer " + vocab + " --prompt hi"), "tokenizer has 65530 tokens");
  expect_error(run("generate --random rwkv7:L1,D64,V65536 --tokenizer " + vocab + " --prompt ''"), "prompt is empty");
  const std::string ids = test::temp_path("bad_ids.json");
  std::ofstream(ids) << "[1, 2, 600]";
  expect_error(run("forward " + tiny + " --ids " + ids + " --logits-out /dev/null"), "token id 600 is out of range");
  std::ofstream(ids) << "[1, \"x\"]";
  expect_error(run("forward " + tiny + " --ids " + ids + " --logits-out /dev/null"), "element 1 is not an integer");
  expect_error(run("inspect /nonexistent/model.pth"), "no such file");
  const std::string trunc = test::temp_path("trunc.pth");
  {
    std::ifstream in(tiny, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(trunc, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  expect_error(run("inspect " + trunc), "truncated");
  expect_error(run("detokenize --tokenizer " + vocab, "[1, 99999999]"), "not in the RWKV World vocabulary");
  // A state saved from one model, loaded into another.
  const std::string state = test::temp_path("tiny_state.safetensors");
  ASSERT_EQ(run("forward " + tiny + " --ids " + ids + " --logits-out /dev/null --state-out " + state).code, 1);
  std::ofstream(ids) << "[1, 2, 3]";
  ASSERT_EQ(run("forward " + tiny + " --ids " + ids + " --logits-out " + test::temp_path("l.npy") + " --state-out " + state).code, 0);
  expect_error(run("forward " + td("rwkv7/small/model_bf16.pth") + " --ids " + ids + " --logits-out /dev/null --state-in " + state),
               "state belongs to a model of shape");
}

TEST(Cli, GenerateAndChatRun) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  const std::string vocab = td("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  const std::string model = "--random rwkv7:L2,D128,V65536";
  Result g = run("generate " + model + " --tokenizer " + vocab + " --prompt 'Hello' -n 8 --temperature 0");
  ASSERT_EQ(g.code, 0) << g.out;
  EXPECT_EQ(g.out.rfind("Hello", 0), 0u) << g.out;
  EXPECT_NE(g.out.find("tokens/s"), std::string::npos) << g.out;
  // Greedy output is reproducible (the timing line aside).
  const auto text = [](const std::string& s) { return s.substr(0, s.find("\n[prefill")); };
  EXPECT_EQ(text(run("generate " + model + " --tokenizer " + vocab + " --prompt 'Hello' -n 8 --temperature 0").out), text(g.out));
  const std::string state = test::temp_path("chat_state.safetensors");
  Result c = run("chat " + model + " --tokenizer " + vocab + " -n 5", "hi there\n/save " + state + "\n/reset\n/load " + state + "\n");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("Assistant:"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("[state saved to"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("[state loaded from"), std::string::npos) << c.out;
  Result t = run("tokenize --tokenizer " + vocab + " --text 'User: hi'");
  EXPECT_EQ(t.out, "[24281,59,4571]\n");
}

// qwen2-small's generation_config.json has no do_sample: transformers decodes greedily, and so
// must gander by default, with no penalty bending the argmax (it left the reference at token 10).
TEST(Cli, Qwen2DefaultsFollowGenerationConfigAndMatchTransformersGreedy) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-small/reference/info.json");
  std::ifstream f(td("qwen2/qwen2-small/reference/info.json"));
  const auto info = nlohmann::json::parse(f);
  const int64_t n = int64_t(info["greedy_ids"].size() - info["greedy_prompt_ids"].size());
  Result g = run("generate " + td("qwen2/qwen2-small") + " --prompt 'Once upon a time' --precision f32 -n " +
                 std::to_string(n));
  ASSERT_EQ(g.code, 0) << g.out;
  EXPECT_EQ(g.out.substr(0, g.out.find('\n')), info["greedy_text"].get<std::string>()) << g.out;
  // Options refused where they do not apply, at once.
  expect_error(run("generate " + td("qwen2/qwen2-small") + " -p hi --time-state x.pth"), "--time-state");
  expect_error(run("generate " + td("qwen2/qwen2-small") + " -p hi --model-seed 3"), "--model-seed");
  expect_error(run("generate " + td("qwen2/qwen2-small") + " -p hi -t 100000"), "--threads");
}

TEST(Cli, PromptsFromFilesAndStandardInputEndWithANewline) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  const std::string q = td("qwen2/qwen2-tiny"), prompt = test::temp_path("prompt.txt");
  std::ofstream(prompt) << "Once upon a time";
  const Result a = run("generate " + q + " -f " + prompt + " -n 5 2>/dev/null");
  const Result b = run("generate " + q + " -n 5 2>/dev/null", "Once upon a time");
  const Result c = run("generate " + q + " -f " + prompt + " -n 5 --no-display-prompt 2>/dev/null");
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out.rfind("Once upon a time", 0), 0u) << a.out;
  EXPECT_EQ(a.out.back(), '\n');
  EXPECT_EQ("Once upon a time" + c.out, a.out);
  expect_error(run("generate " + q + " -f /dev/zero"), "not a regular file");
}

TEST(Cli, Qwen2FoldersWorkWithTheirOwnTokenizer) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  const std::string q = td("qwen2/qwen2-tiny");
  // The golden greedy continuation of "Once upon a time" (info.json's greedy_text starts so).
  Result g = run("generate " + q + " --prompt 'Once upon a time' -n 10 --temperature 0 --presence-penalty 0 --frequency-penalty 0");
  ASSERT_EQ(g.code, 0) << g.out;
  EXPECT_EQ(g.out.rfind("Once upon a time, the first of the day, the first time", 0), 0u) << g.out;
  Result t = run("tokenize --tokenizer " + q + " --text 'Hello world'");
  EXPECT_EQ(t.code, 0) << t.out;
  EXPECT_EQ(run("tokenize " + q + " --text 'Hello world'").out, t.out) << "the folder's tokenizer.json";
  expect_error(run("detokenize " + q + " --ids /dev/zero"), "not a regular file");
  Result c = run("chat " + q + " -n 4 --temperature 0", "hi\n");
  EXPECT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("Assistant:"), std::string::npos) << c.out;
  const std::string ids = test::temp_path("q_ids.json");
  std::ofstream(ids) << "[1, 2, 99999]";
  expect_error(run("forward " + q + " --ids " + ids + " --logits-out /dev/null"), "token id 99999 is out of range");
  // A tokenizer.json of another model type is refused with the field named.
  const std::string bad = test::temp_path("wp_tokenizer.json");
  std::ofstream(bad) << R"({"model": {"type": "Unigram"}})";
  expect_error(run("generate " + q + " --tokenizer " + bad + " --prompt hi"), "model.type");
}

}  // namespace
}  // namespace gander
