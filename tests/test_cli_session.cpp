// The command line as a person uses it: chats typed line by line, Ctrl-C (SIGINT) during a reply
// and at the prompt, a context that fills up, outputs that must not be lost or clobbered.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "io/checkpoint.h"
#include "testdata.h"

namespace gander {
namespace {

using test::Child;
using test::CliResult;
using test::run_cli;

std::string vocab() { return test::testdata("rwkv7/tokenizer/rwkv_vocab_v20230424.txt"); }
// A chat or generate command line on a small random RWKV-7 model.
std::vector<std::string> rwkv(const std::string& command, const std::vector<std::string>& more) {
  std::vector<std::string> a = {command, "--random", "rwkv7:L2,D128,V65536", "--tokenizer", vocab()};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// qwen2-tiny with a shorter context, so that a chat fills it in a few turns.
std::string qwen2_tiny_with_context(int64_t positions) {
  namespace fs = std::filesystem;
  const fs::path src = test::testdata("qwen2/qwen2-tiny");
  const fs::path dir = test::temp_path("qwen2_ctx" + std::to_string(positions));
  fs::create_directories(dir);
  for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    if (!fs::exists(dir / f)) fs::create_symlink(src / f, dir / f);
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(src / "config.json"));
  cfg["max_position_embeddings"] = positions;
  std::ofstream(dir / "config.json") << cfg.dump(2);
  return dir.string();
}

TEST(ChatSession, CommandsHelpRetryAndABadLoadKeepTheChatGoing) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  const std::string bad = test::temp_path("not_a_state.safetensors"), out = test::temp_path("chat_end.safetensors");
  std::ofstream(bad) << "garbage";
  std::filesystem::remove(out);
  Child c(rwkv("chat", {"-n", "4", "--seed", "1", "--state-out", out, "--stop", "zz"}));
  c.write("/help\n/save\n/frobnicate\nhi there\n/retry\n/load " + bad + "\n//etc is a folder\n/quit\n");
  const CliResult r = c.finish();
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("/retry"), std::string::npos) << "help lists the commands: " << r.out;
  EXPECT_NE(r.out.find("[error: usage: /save FILE]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[error: unknown command /frobnicate"), std::string::npos) << r.out;
  // hi there, its /retry, and the message that starts with a slash: three replies.
  size_t replies = 0;
  for (size_t at = 0; (at = r.out.find("Assistant:", at)) != std::string::npos; ++at) ++replies;
  EXPECT_EQ(replies, 3u) << r.out;
  EXPECT_NE(r.out.find("[error: " + bad), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(out)) << "--state-out is written when the chat ends";
}

TEST(ChatSession, CtrlCStopsTheReplyAndTheChatGoesOn) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  // A reply that would run for minutes: no stop string can appear, the token limit is huge.
  Child c(rwkv("chat", {"-n", "100000000", "--ban", "0", "--stop", "\x01"}));
  c.write("tell me everything\n");
  ASSERT_TRUE(c.wait_for("Assistant:", 30)) << c.out();
  c.signal(SIGINT);
  ASSERT_TRUE(c.wait_for("[interrupted: the reply so far is kept]", 30)) << c.out();
  c.write("/quit\n");
  const CliResult r = c.finish();
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

TEST(ChatSession, AFullContextDropsTheOldestTurnsInsteadOfEndingTheChat) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  const std::string model = qwen2_tiny_with_context(160);
  std::string words;
  for (int i = 0; i < 8; ++i) words += "the cat sat on the mat ";
  // Each turn is ~60 tokens of message and up to 20 of reply: the third cannot fit beside the first.
  std::string script;
  for (int i = 0; i < 4; ++i) script += words + "\n";
  std::string huge;
  for (int i = 0; i < 10; ++i) huge += words;
  script += huge + "\nhi\n";
  Child c({"chat", model, "-n", "20", "--temperature", "0"});
  c.write(script);
  const CliResult r = c.finish();
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("the oldest turns will be dropped"), std::string::npos) << "a warning first: " << r.out;
  EXPECT_NE(r.out.find("[context full: dropped the"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[message not sent: it needs"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
}

TEST(GenerateSession, CtrlCAndAFullContextKeepTheWork) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  const std::string state = test::temp_path("gen_interrupted.safetensors");
  std::filesystem::remove(state);
  {
    Child c({"generate", test::testdata("qwen2/qwen2-tiny"), "-p", "Once upon a time", "-n", "100000000",
             "--state-out", state});
    ASSERT_TRUE(c.wait_for("Once upon a time", 30));
    c.wait_for("the", 10);  // some generated text
    c.signal(SIGINT);
    const CliResult r = c.finish();
    EXPECT_EQ(r.code, 130) << r.err;
    EXPECT_NE(r.err.find("stop: interrupted"), std::string::npos) << r.err;
    EXPECT_TRUE(std::filesystem::exists(state)) << "the state is saved after Ctrl-C";
  }
  // Reaching max_position_embeddings ends generation with the reason, and the state is kept.
  std::filesystem::remove(state);
  const CliResult r = run_cli("generate " + qwen2_tiny_with_context(24) + " -p 'Once upon a time' -n 100 --state-out " + state);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("stop: context full"), std::string::npos) << r.out;
  EXPECT_EQ(io::load_checkpoint(state).metadata().at("length"), "24");
}

TEST(Outputs, DevicesAndPipesAreWrittenStraightThroughNeverReplaced) {
  // As root the old code renamed its temporary over /dev/full, replacing the device with a file;
  // a FIFO shows the same without touching the system's devices.
  const std::string fifo = test::temp_path("logits.fifo"), copy = test::temp_path("logits_copy.npy");
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string ids = test::temp_path("fifo_ids.json");
  std::ofstream(ids) << "[1, 2, 3]";
  const CliResult r = run_cli("forward --random rwkv7:L1,D64,V128 --ids " + ids + " --logits-out " + fifo +
                              " & cat " + fifo + " > " + copy + "; wait $!");
  EXPECT_EQ(r.code, 0) << r.out;
  struct stat st {};
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced by a regular file";
  EXPECT_GT(std::filesystem::file_size(copy), 3u * 128 * 4) << "the logits went through the pipe";
  // /dev/null takes output like any file (and stays a device).
  EXPECT_EQ(run_cli("forward --random rwkv7:L1,D64,V128 --ids " + ids + " --logits-out /dev/null --state-out /dev/null").code, 0);
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(Outputs, AnUnwritablePathIsRefusedBeforeAnyWorkAndNamedAsGiven) {
  const std::string ids = test::temp_path("ids_unwritable.json");
  std::ofstream(ids) << "[1, 2, 3]";
  for (const std::string& cmd : std::vector<std::string>{
           "forward --random rwkv7:L1,D64,V128 --ids " + ids + " --logits-out /nonexistent/dir/l.npy",
        "generate --random rwkv7:L1,D64,V128 --tokenizer /nonexistent/t.txt -p hi --state-out /nonexistent/dir/s.st",
        "bench --random rwkv7:L1,D64,V128 --json-out /nonexistent/dir/b.json"}) {
    const CliResult r = run_cli(cmd);
    EXPECT_EQ(r.code, 1) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("error: /nonexistent/dir/"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(".tmp."), std::string::npos) << "never the temporary's name: " << r.out;
  }
}

TEST(Outputs, WriteErrorsOnStandardOutputAreReported) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  for (const std::string redirect : {">/dev/full", ">&-"}) {
    const CliResult r = run_cli("tokenize --tokenizer " + vocab() + " --text 'User: hi' " + redirect);
    EXPECT_NE(r.code, 0) << redirect;
    EXPECT_NE(r.out.find("error: standard output: write failed"), std::string::npos) << redirect << ": " << r.out;
  }
}

TEST(Forward, LogitsAreStreamedNotHeldInMemory) {
  // 10,000 positions x 65,536 logits are 2.6 GB: the old forward held them all before writing.
  std::string ids = "[";
  for (int i = 0; i < 10000; ++i) ids += std::to_string(1 + i % 1000) + (i + 1 < 10000 ? "," : "]");
  const std::string path = test::temp_path("ids_10k.json");
  std::ofstream(path) << ids;
  Child c({"forward", "--random", "rwkv7:L1,D64,V65536", "--ids", path, "--logits-out", "/dev/null"});
  const CliResult r = c.finish(300);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.peak_rss_kb, 1024 * 1024) << "peak RSS " << r.peak_rss_kb / 1024 << " MiB";
}

}  // namespace
}  // namespace gander
