// The demo's corpus and tokenizer: the story grammar is a function of the story's number, and the
// tokenizer made for it holds every piece of the grammar as one token, loads as any Qwen2
// tokenizer.json does, and still round-trips text the grammar never writes.
#include <gtest/gtest.h>

#include <set>

#include "data/story_grammar.h"
#include "tokenize/bpe.h"
#include "tokenize/piece_bpe.h"
#include "tokenize/split_regex.h"
#include "tokenize/utf8.h"

namespace gander {
namespace {

std::vector<std::string> pieces_of(const std::string& text) {
  const SplitRegex regex(kQwen2SplitPattern, "test");
  SplitRegex::Scratch scratch(regex);
  std::vector<std::string> out;
  regex.split(text, scratch, [&](size_t b, size_t e) { out.push_back(text.substr(b, e - b)); });
  return out;
}

TEST(StoryGrammar, AStoryIsAFunctionOfItsNumber) {
  std::set<std::string> seen;
  for (uint64_t i = 0; i < 200; ++i) {
    const std::string s = data::grammar_story(i);
    EXPECT_EQ(s, data::grammar_story(i));
    EXPECT_EQ(first_invalid_utf8(s), std::string::npos);
    const size_t words = size_t(std::count(s.begin(), s.end(), ' ')) + 1;
    EXPECT_GE(words, 60u) << s;
    EXPECT_LE(words, 220u) << s;
    EXPECT_EQ(s.find("  "), std::string::npos) << s;
    EXPECT_TRUE(s.back() == '.' || s.back() == '"') << s;
    // The hero named in the opening comes back later in the story.
    size_t named = s.find(" named ");
    if (named == std::string::npos) named = s.find(" called ");
    ASSERT_NE(named, std::string::npos) << s;
    const size_t start = s.find(' ', named + 1) + 1;
    const std::string hero = s.substr(start, s.find('.', start) - start);
    EXPECT_NE(s.find(hero, start + hero.size()), std::string::npos) << hero << ": " << s;
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(PieceBpe, EveryPieceOfTheSamplesIsOneToken) {
  std::vector<std::string> sample;
  for (uint64_t i = 0; i < 500; ++i) sample.push_back(data::grammar_story(i));
  const auto tok = BpeTokenizer::from_json_text(piece_bpe_tokenizer_json(sample), "piece_bpe");
  std::set<std::string> pieces;
  for (const std::string& s : sample)
    for (const std::string& p : pieces_of(s)) pieces.insert(p);
  for (const std::string& p : pieces) EXPECT_EQ(tok->encode(p).size(), 1u) << "'" << p << "'";
  // A held-out story: one token per piece, and back.
  const std::string story = data::grammar_story(1u << 30);
  const std::vector<int32_t> ids = tok->encode(story);
  EXPECT_LE(ids.size(), pieces_of(story).size() + 2);  // a rare word may not be in the sample
  EXPECT_EQ(tok->decode(ids), story);
  // The special tokens come after the merged ones.
  ASSERT_EQ(tok->end_of_text().size(), 1u);
  EXPECT_EQ(tok->end_of_text()[0], tok->vocab_size() - 3);
  EXPECT_EQ(tok->special_id("<|im_end|>"), tok->vocab_size() - 1);
  // Text the grammar never writes goes through the byte tokens.
  const std::string other = "Zürich, 2026: naïve ☃ \t\n\n  tabs";
  EXPECT_EQ(tok->decode(tok->encode(other)), other);
}

// A naive chain (" c", " ca", " cat" ranked after "at") leaves " cat" as " ca" + "t" once the
// frequent "at" has merged first; each rule here is made from what the earlier ones leave.
TEST(PieceBpe, RulesMadeForOnePieceDoNotBreakAnother) {
  const std::vector<std::string> texts = {"at at at at at at", "at at at cat", "hat that chat cat"};
  const auto tok = BpeTokenizer::from_json_text(piece_bpe_tokenizer_json(texts), "piece_bpe");
  for (const std::string& p : {"at", " at", " cat", "hat", " that", " chat"}) EXPECT_EQ(tok->encode(p).size(), 1u) << p;
  const std::string joined = "at that chat cat at";
  EXPECT_EQ(tok->encode(joined).size(), 5u);
  EXPECT_EQ(tok->decode(tok->encode(joined)), joined);
  // min_count leaves rare pieces in bytes.
  PieceBpeOptions o;
  o.min_count = 2;
  const auto rare = BpeTokenizer::from_json_text(piece_bpe_tokenizer_json(texts, o), "piece_bpe");
  EXPECT_GT(rare->encode(" chat").size(), 1u);
  EXPECT_EQ(rare->encode(" at").size(), 1u);
}

}  // namespace
}  // namespace gander
