#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "generate/chat_format.h"
#include "generate/chat_history.h"
#include "generate/generator.h"
#include "generate/sampling_defaults.h"
#include "generate/sampler.h"
#include "generate/text_stream.h"

namespace gander {
namespace {

std::string test_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> logits_of(std::vector<float> p) {
  for (float& x : p) x = std::log(x);
  return p;
}

TEST(Sampler, GreedyWhenTemperatureOrTopPIsZero) {
  const std::vector<float> l = {0.1f, 2.0f, 1.9f, -3.0f};
  SamplingParams p;
  p.presence_penalty = p.frequency_penalty = 0;
  p.temperature = 0;
  Sampler a(p, 4);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.sample(l), 1);
  p.temperature = 1;
  p.top_p = 0;
  Sampler b(p, 4);
  EXPECT_EQ(b.sample(l), 1);
}

TEST(Sampler, TopPCutsTheTailAndSeedsReproduce) {
  // probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps the first two only.
  const auto l = logits_of({0.5f, 0.3f, 0.15f, 0.05f});
  SamplingParams p;
  p.presence_penalty = p.frequency_penalty = 0;
  p.top_p = 0.7f;
  p.seed = 5;
  Sampler s(p, 4), t(p, 4);
  int counts[4] = {};
  for (int i = 0; i < 4000; ++i) {
    const int32_t a = s.sample(l);
    EXPECT_EQ(a, t.sample(l));
    counts[a]++;
  }
  EXPECT_EQ(counts[2] + counts[3], 0);
  EXPECT_NEAR(counts[0] / 4000.0, 0.5 / 0.8, 0.03);
}

TEST(Sampler, TopKAndBans) {
  const auto l = logits_of({0.4f, 0.3f, 0.2f, 0.1f});
  SamplingParams p;
  p.presence_penalty = p.frequency_penalty = 0;
  p.top_p = 1;
  p.top_k = 1;
  p.banned = {0};
  Sampler s(p, 4);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(l), 1);
}

TEST(Sampler, PenaltiesFollowTheOfficialDecay) {
  SamplingParams p;
  p.top_p = 0;  // the official pipeline's greedy: the argmax after the penalties
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  p.penalty_decay = 0.5f;
  Sampler s(p, 3);
  const std::vector<float> l = {1.0f, 0.9f, 0.0f};
  EXPECT_EQ(s.sample(l), 0);
  s.observe(0, 1.0f);  // token 0: penalty 0.5 + 1 * 0.25 = 0.75 -> 0.25 < 0.9
  EXPECT_EQ(s.sample(l), 1);
  s.observe(1, 1.0f);  // token 0 decays to 0.5: 1.0 - (0.5 + 0.125) = 0.375; token 1: 0.9 - 0.75 = 0.15
  EXPECT_EQ(s.sample(l), 0);
  EXPECT_EQ(penalty_weight(" "), 0.0f);
  EXPECT_EQ(penalty_weight("12"), 0.0f);
  EXPECT_EQ(penalty_weight("a"), 1.0f);
}

TEST(Sampler, TemperatureZeroIsThePlainArgmaxWhateverThePenalties) {
  SamplingParams p;
  p.temperature = 0;
  p.presence_penalty = 5;
  p.frequency_penalty = 5;
  p.repetition_penalty = 3;
  Sampler s(p, 3);
  const std::vector<float> l = {1.0f, 0.9f, 0.0f};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(s.sample(l), 0);
    s.observe(0, 1.0f);  // a penalised token stays the argmax: greedy means the model's choice
  }
}

TEST(Sampler, LowTemperatureSamplesInLogSpace) {
  // p^(1/T) underflowed to 0 for every token at T = 0.01 with top-p 1: the draw fell through to
  // token 0. In log space the likeliest token has weight 1 and wins.
  SamplingParams p;
  p.presence_penalty = p.frequency_penalty = 0;
  p.top_p = 1;
  p.temperature = 0.001f;
  std::vector<float> l(1000, -50.0f);
  l[617] = -40.0f;
  for (auto order : {SamplingOrder::RwkvPipeline, SamplingOrder::HuggingFace}) {
    p.order = order;
    Sampler s(p, 1000);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(l), 617);
  }
}

TEST(Sampler, TransformersOrderTempersBeforeTheCuts) {
  // probabilities 0.5, 0.3, 0.15, 0.05. RWKV order: top-p 0.7 on these keeps {0, 1}. Tempered
  // first (T = 2: 0.38, 0.29, 0.21, 0.12), transformers' top-p 0.7 keeps {0, 1, 2}.
  const auto l = logits_of({0.5f, 0.3f, 0.15f, 0.05f});
  SamplingParams p = SamplingParams::hf_defaults();
  p.temperature = 2;
  p.top_k = 0;
  p.top_p = 0.7f;
  p.seed = 3;
  Sampler hf(p, 4);
  p.order = SamplingOrder::RwkvPipeline;
  Sampler rwkv(p, 4);
  int hf_counts[4] = {}, rwkv_counts[4] = {};
  for (int i = 0; i < 6000; ++i) hf_counts[hf.sample(l)]++, rwkv_counts[rwkv.sample(l)]++;
  EXPECT_GT(hf_counts[2], 600);
  EXPECT_EQ(hf_counts[3], 0);
  EXPECT_EQ(rwkv_counts[2] + rwkv_counts[3], 0);
  // RWKV order: temperature on the kept probabilities: 0.5^0.5 : 0.3^0.5 = 0.56 : 0.44.
  EXPECT_NEAR(rwkv_counts[0] / 6000.0, 0.5635, 0.03);
}

TEST(Sampler, RepetitionPenaltyCoversThePromptAndMinPCutsRelatively) {
  SamplingParams p = SamplingParams::hf_defaults();
  p.temperature = 1;
  p.top_k = 0;
  p.top_p = 0;  // greedy after the penalties
  p.repetition_penalty = 2;
  Sampler s(p, 3);
  const std::vector<float> l = {2.0f, 1.5f, -1.0f};
  EXPECT_EQ(s.sample(l), 0);
  const int32_t prompt[] = {0};
  s.observe_context(prompt);  // 2.0 / 2 = 1.0 < 1.5
  EXPECT_EQ(s.sample(l), 1);
  // min-p 0.5 keeps tokens at least half as likely as the likeliest: of 0.6, 0.35, 0.05 only 0, 1.
  SamplingParams q = SamplingParams::hf_defaults();
  q.temperature = 1;
  q.top_k = 0;
  q.min_p = 0.5f;
  Sampler m(q, 3);
  const auto l2 = logits_of({0.6f, 0.35f, 0.05f});
  int counts[3] = {};
  for (int i = 0; i < 3000; ++i) counts[m.sample(l2)]++;
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[0] / 3000.0, 0.6 / 0.95, 0.04);
}

TEST(Sampler, RetryRestoresWhatThePenaltiesRemember) {
  SamplingParams p;
  p.top_p = 0;
  p.presence_penalty = 1;
  Sampler s(p, 2);
  const std::vector<float> l = {1.0f, 0.5f};
  const Sampler::Memory before = s.memory();
  s.observe(0, 1);
  EXPECT_EQ(s.sample(l), 1);
  s.restore(before);
  EXPECT_EQ(s.sample(l), 0);
}

TEST(GenerationConfig, TransformersDefaultsUnlessTheFileSaysSample) {
  const std::string path = ::testing::TempDir() + "generation_config.json";
  std::ofstream(path) << R"({"do_sample": true, "temperature": 0.7, "top_p": 0.8, "top_k": 20,
                            "repetition_penalty": 1.05, "eos_token_id": [151645, 151643]})";
  SamplingDefaults d = read_generation_config(path, SamplingParams::hf_defaults());
  EXPECT_EQ(d.params.order, SamplingOrder::HuggingFace);
  EXPECT_FLOAT_EQ(d.params.temperature, 0.7f);
  EXPECT_FLOAT_EQ(d.params.top_p, 0.8f);
  EXPECT_EQ(d.params.top_k, 20);
  EXPECT_FLOAT_EQ(d.params.repetition_penalty, 1.05f);
  EXPECT_EQ(d.stop_tokens, (std::vector<int32_t>{151645, 151643}));
  std::ofstream(path) << R"({"temperature": 0.7, "eos_token_id": 2})";
  d = read_generation_config(path, SamplingParams::hf_defaults());
  EXPECT_EQ(d.params.temperature, 0.0f);  // do_sample absent: greedy, as transformers
  EXPECT_EQ(d.stop_tokens, (std::vector<int32_t>{2}));
  std::ofstream(path) << R"({"do_sample": true, "top_p": 7})";
  EXPECT_NE(test_error([&] { read_generation_config(path, SamplingParams::hf_defaults()); }).find("top-p"), std::string::npos);
  std::ofstream(path) << R"({"eos_token_id": "x"})";
  EXPECT_NE(test_error([&] { read_generation_config(path, SamplingParams::hf_defaults()); }).find("eos_token_id"),
            std::string::npos);
}

TEST(ChatHistory, DropsTheOldestTurnsAndKeepsTheSystemPrompt) {
  ChatHistory h;
  h.set_system({1, 2});
  for (int t = 0; t < 3; ++t) {
    h.start_turn();
    h.append(std::vector<int32_t>{10 * t, 10 * t + 1, 10 * t + 2});
  }
  EXPECT_EQ(h.tokens(), 11);
  auto f = h.fit(4, 20);  // 11 + 4 <= 20: nothing to do
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->rebuild);
  f = h.fit(8, 16);  // drop turns until 2 + kept + 8 <= 16: one turn goes
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->rebuild);
  EXPECT_EQ(f->dropped_turns, 1);
  EXPECT_EQ(f->replay, (std::vector<int32_t>{1, 2, 10, 11, 12, 20, 21, 22}));
  EXPECT_FALSE(h.fit(15, 16));  // the system prompt alone leaves no room
  h.forget();                   // a loaded state: nothing can be replayed
  EXPECT_FALSE(h.fit(100, 16));
}

TEST(Generate, StopsWhenTheContextIsFullOrInterrupted) {
  // A toy vocabulary (every byte) and a model whose logits always favour token 'a'.
  struct Bytes final : Tokenizer {
    std::vector<int32_t> encode(std::string_view t) const override { return {t.begin(), t.end()}; }
    std::string decode(std::span<const int32_t> ids) const override { return {ids.begin(), ids.end()}; }
    int64_t vocab_size() const override { return 256; }
    std::string name() const override { return "bytes"; }
    std::vector<int32_t> end_of_text() const override { return {}; }
  } tok;
  int fed = 0;
  std::atomic<bool> stop{false};
  auto feed = [&](std::span<const int32_t> ids, Tensor& logits) {
    fed += int(ids.size());
    logits = Tensor::zeros(DType::F32, {1, 256});
    logits.data<float>()['a'] = 5;
    if (fed >= 7) stop = true;
  };
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p, 256);
  GenerateOptions opt;
  opt.max_tokens = 100;
  opt.context_room = 4;
  Tensor logits;
  const std::vector<int32_t> prompt = {'h', 'i'};
  GenerateStats st = generate(feed, tok, prompt, logits, s, opt, [](const std::string&) {});
  EXPECT_EQ(st.stop_reason, "context full");
  EXPECT_EQ(st.text, "aaaa");
  EXPECT_EQ(fed, 6);
  fed = 0;  // the "signal" arrives while the 5th generated token is fed
  opt.context_room = 1000;
  opt.interrupt = &stop;
  st = generate(feed, tok, prompt, logits, s, opt, [](const std::string&) {});
  EXPECT_EQ(st.stop_reason, "interrupted");
  EXPECT_EQ(fed, 7);  // the state holds everything generated: nothing is lost
  EXPECT_EQ(st.text, "aaaaa");
}

TEST(Sampler, NeverSamplesPastTheTokenizersVocabulary) {
  SamplingParams p;
  p.presence_penalty = p.frequency_penalty = 0;
  p.top_p = 1;
  Sampler s(p, 4);
  s.restrict_to(2);
  const std::vector<float> l = {0.0f, 0.0f, 9.0f, 9.0f};  // the padded rows are the likeliest
  for (int i = 0; i < 200; ++i) EXPECT_LT(s.sample(l), 2);
}

TEST(Sampler, RejectsBadParameters) {
  SamplingParams p;
  p.top_p = 1.5f;
  EXPECT_THROW(Sampler(p, 4), Error);
  p = SamplingParams{};
  p.banned = {9};
  EXPECT_THROW(Sampler(p, 4), Error);
}

TEST(TextStream, NeverSplitsACharacter) {
  TextStream ts;
  const std::string ni = "\xe4\xbd\xa0";  // U+4F60
  EXPECT_EQ(ts.push("a" + ni.substr(0, 1)), "a");
  EXPECT_EQ(ts.push(ni.substr(1, 1)), "");
  EXPECT_EQ(ts.push(ni.substr(2)), ni);
  EXPECT_EQ(utf8_complete_prefix("\xf0\x9f\x98"), 0u);
  EXPECT_EQ(utf8_complete_prefix("\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(utf8_complete_prefix("\x80"), 1u);  // a stray continuation byte can never complete
}

TEST(TextStream, StopsAtStopStringsAndHoldsBackPrefixes) {
  TextStream ts({"\n\n", "User:"});
  EXPECT_EQ(ts.push("Hello\n"), "Hello");
  EXPECT_EQ(ts.push("there"), "\nthere");
  EXPECT_EQ(ts.push(" Us"), " ");
  EXPECT_EQ(ts.push("er: x"), "");
  EXPECT_TRUE(ts.stopped());
  EXPECT_EQ(ts.stop_string(), "User:");
  EXPECT_EQ(ts.text(), "Hello\nthere ");
  EXPECT_EQ(ts.flush(), "");
}

TEST(ChatFormat, CleansMessagesLikeTheOfficialDemo) {
  EXPECT_EQ(clean_chat_message("  hi\r\n\r\n\r\nthere \n"), "hi\nthere");
  EXPECT_EQ(rwkv_user_turn("hi"), "User: hi\n\nAssistant:");
  EXPECT_EQ(rwkv_system_block("be brief"), "System: be brief\n\n");
  // A reply the model ended with "\n\n" already separates the turns; one cut short by another
  // stop string, a limit or Ctrl-C gets the separator fed after it.
  EXPECT_EQ(ChatFormat::rwkv().after_reply("\n\n"), "");
  EXPECT_EQ(ChatFormat::rwkv().after_reply("THE END"), "\n\n");
  EXPECT_EQ(ChatFormat::rwkv().after_reply(""), "\n\n");
  EXPECT_EQ(ChatFormat::chatml().after_reply(""), "<|im_end|>\n");
}

}  // namespace
}  // namespace gander
