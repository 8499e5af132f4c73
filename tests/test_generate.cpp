#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "generate/chat_format.h"
#include "generate/sampler.h"
#include "generate/text_stream.h"

namespace gander {
namespace {

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
  p.temperature = 0;
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
  EXPECT_EQ(ts.text(), "Hello\nthere ");
  EXPECT_EQ(ts.flush(), "");
}

TEST(ChatFormat, CleansMessagesLikeTheOfficialDemo) {
  EXPECT_EQ(clean_chat_message("  hi\r\n\r\n\r\nthere \n"), "hi\nthere");
  EXPECT_EQ(rwkv_user_turn("hi"), "User: hi\n\nAssistant:");
  EXPECT_EQ(rwkv_system_block("be brief"), "System: be brief\n\n");
}

}  // namespace
}  // namespace gander
