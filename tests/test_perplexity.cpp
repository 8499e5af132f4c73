// Perplexity: the teachers' golden figures (127 windows of 512 inputs over valid_ids_head.npy,
// scored from a token shard through the command line and the library), each target scored once
// whatever the stride, windows against a direct loop over the same windows, a running RWKV-7
// state against one long window, batches against windows one at a time, and refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "eval/perplexity.h"
#include "io/binidx.h"
#include "io/npy.h"
#include "models/qwen2/model.h"
#include "models/rwkv7/model.h"
#include "ops/softmax.h"
#include "testdata.h"

namespace gander::test {
namespace {

eval::PerplexityOptions options(int64_t ctx, int64_t stride = 0, int64_t batch = 1, bool stream = false) {
  eval::PerplexityOptions o;
  o.ctx = ctx, o.stride = stride, o.batch = batch, o.stream = stream;
  return o;
}

// The golden's tokens: 127 windows of 512 inputs need 127 * 512 + 1.
std::vector<int32_t> golden_tokens() {
  const Tensor ids = io::load_npy(testdata("qwen2/tokenizer/valid_ids_head.npy"));
  std::vector<int32_t> all(size_t(127 * 512 + 1));
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = ids.dtype() == DType::I64 ? int32_t(ids.data<int64_t>()[i]) : ids.data<int32_t>()[i];
  return all;
}

double golden_ppl(const std::string& teacher) {
  std::ifstream f(testdata("qwen2/" + teacher + "/reference/info.json"));
  return nlohmann::json::parse(f)["valid_head_ppl"].get<double>();
}

TEST(Perplexity, TheTeachersGoldenFiguresFromATokenShard) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-small/config.json");
  GANDER_REQUIRE_TESTDATA("qwen2/tokenizer/valid_ids_head.npy");
  const std::vector<int32_t> tokens = golden_tokens();
  const std::string prefix = temp_path("golden_head");
  io::BinidxWriter w(prefix, io::TokenWidth::U16);
  w.add_document(tokens);
  w.commit();
  // qwen2-tiny through the command line (the shard has no description: checked against the vocabulary).
  const CliResult r = run_cli("perplexity " + testdata("qwen2/qwen2-tiny") + " --shards " + prefix + " --ctx 512 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tokens"], 65024);
  EXPECT_EQ(j["windows"], 127);
  EXPECT_NEAR(j["perplexity"].get<double>(), golden_ppl("qwen2-tiny"), 1e-5 * golden_ppl("qwen2-tiny"));
  EXPECT_GT(j["bits_per_byte"].get<double>(), 0.5);
  // qwen2-small through the library, two windows at a time.
  const auto small = qwen2::load_folder(testdata("qwen2/qwen2-small"));
  const eval::PerplexityResult s = eval::perplexity(small, tokens, options(512, 0, 2));
  EXPECT_EQ(s.tokens, 65024);
  EXPECT_NEAR(s.perplexity(), golden_ppl("qwen2-small"), 1e-5 * golden_ppl("qwen2-small"));
  std::filesystem::remove(prefix + ".bin"), std::filesystem::remove(prefix + ".idx");
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = int32_t(rng.below(uint64_t(vocab)));
  return t;
}

// The windows written out by hand: inputs [b, b + ctx), scoring what no earlier window scored.
double direct_nll(const std::shared_ptr<const models::Decoder>& m, const std::vector<int32_t>& t, int64_t ctx,
                  int64_t stride, int64_t& scored) {
  double nll = 0;
  int64_t done = 1;
  scored = 0;
  for (int64_t b = 0; done < int64_t(t.size()); b += stride) {
    const int64_t end = std::min<int64_t>(b + ctx + 1, int64_t(t.size()));
    models::Context c(m);
    Tensor logits;
    c.forward(c.join(), std::span(t).subspan(size_t(b), size_t(end - 1 - b)), logits, true);
    for (int64_t p = std::max(done, b + 1); p < end; ++p) {
      std::vector<float> row(logits.data<float>() + (p - 1 - b) * m->vocab(), logits.data<float>() + (p - b) * m->vocab());
      double z = 0, mx = *std::max_element(row.begin(), row.end());
      for (float v : row) z += std::exp(double(v) - mx);
      nll += mx + std::log(z) - row[size_t(t[size_t(p)])];
      ++scored;
    }
    done = end;
  }
  return nll;
}

TEST(Perplexity, WindowsScoreEveryTokenOnceAndMatchADirectLoop) {
  const auto m = rwkv7::random(rwkv7::Config::parse_shape("L2,D64,V300"), DType::F32, 3);
  const std::vector<int32_t> t = random_tokens(203, 300, 4);
  for (auto [ctx, stride] : {std::pair{64, 64}, {64, 16}, {50, 33}, {500, 500}, {1, 1}}) {
    int64_t scored = 0;
    const double want = direct_nll(m, t, ctx, stride, scored);
    for (int64_t batch : {1, 3}) {
      const eval::PerplexityResult r = eval::perplexity(m, t, options(ctx, stride, batch));
      EXPECT_EQ(r.tokens, 202) << ctx << "/" << stride;  // every token after the first, once
      EXPECT_EQ(scored, 202);
      EXPECT_NEAR(r.nll, want, 1e-5 * want) << "ctx " << ctx << " stride " << stride << " batch " << batch;
    }
  }
}

TEST(Perplexity, ARunningStateScoresLikeOneWindowOfTheWholeText) {
  const auto m = rwkv7::random(rwkv7::Config::parse_shape("L2,D64,V300"), DType::F32, 5);
  const std::vector<int32_t> t = random_tokens(300, 300, 6);
  const auto whole = eval::perplexity(m, t, options(1000));
  const auto stream = eval::perplexity(m, t, options(37, 0, 1, true));
  EXPECT_EQ(whole.windows, 1);
  EXPECT_EQ(stream.windows, 9);  // ceil(299 / 37)
  EXPECT_EQ(stream.tokens, 299);
  EXPECT_NEAR(stream.nll, whole.nll, 1e-5 * whole.nll);
  // Byte lengths make bits per byte: 2 bytes a token here.
  const std::vector<int64_t> two(300, 2);
  const auto b = eval::perplexity(m, t, options(64), &two);
  EXPECT_NEAR(b.bits_per_byte(), b.nll / std::log(2.0) / (2.0 * 299), 1e-12);
}

TEST(Perplexity, RefusesWhatItCannotScore) {
  const auto m = rwkv7::random(rwkv7::Config::parse_shape("L1,D64,V100"), DType::F32, 7);
  const std::vector<int32_t> t = random_tokens(50, 100, 8), one = {3}, outside = {1, 2, 100};
  EXPECT_NE(error_of([&] { eval::perplexity(m, t, options(8, 9)); }).find("--stride 9 must be from 1 to --ctx 8"),
            std::string::npos);
  EXPECT_NE(error_of([&] { eval::perplexity(m, one, options(512)); }).find("at least 2"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::perplexity(m, outside, options(512)); }).find("token 2 is 100, outside the model's vocabulary"),
            std::string::npos);
  // A window past a Qwen2 model's max_position_embeddings would score RoPE positions it never saw.
  if (std::filesystem::exists(testdata("qwen2/qwen2-tiny/config.json"))) {
    const auto q = qwen2::load_folder(testdata("qwen2/qwen2-tiny"));
    const std::vector<int32_t> long_text = random_tokens(5000, 100, 9);
    EXPECT_NE(error_of([&] { eval::perplexity(q, long_text, options(4500)); })
                  .find("--ctx 4500 exceeds the model's max_position_embeddings = 4096"),
              std::string::npos);
    EXPECT_NE(error_of([&] { eval::perplexity(q, long_text, options(512, 0, 1, true)); }).find("--stream over 4999 tokens"),
              std::string::npos);
  }
  // Below the shared check: a context refuses any step past the limit.
  if (std::filesystem::exists(testdata("qwen2/qwen2-tiny/config.json"))) {
    models::Context c(qwen2::load_folder(testdata("qwen2/qwen2-tiny")));
    Tensor logits;
    const std::vector<int32_t> ids(4097, 1);
    EXPECT_NE(error_of([&] { c.forward(c.join(), ids, logits); }).find("context full: 4097 tokens exceed"), std::string::npos);
  }
  const CliResult r = run_cli("perplexity --random rwkv7:L1,D64,V100");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("give a text file or --shards"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gander::test
