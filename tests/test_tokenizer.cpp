#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "testdata.h"
#include "tokenize/rwkv_world.h"

namespace gander {
namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

const RwkvWorldTokenizer& world() {
  static RwkvWorldTokenizer tok = RwkvWorldTokenizer::from_file(test::testdata("rwkv7/tokenizer/rwkv_vocab_v20230424.txt"));
  return tok;
}

TEST(RwkvWorld, MatchesEveryGoldenCase) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/tokenizer_cases.json");
  std::ifstream f(test::testdata("rwkv7/tokenizer/tokenizer_cases.json"));
  const nlohmann::json j = nlohmann::json::parse(f);
  int n = 0;
  for (const auto& c : j["cases"]) {
    const std::string text = c.contains("text") ? c["text"].get<std::string>() : from_hex(c["bytes_hex"]);
    const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> got = world().encode(text);
    EXPECT_EQ(got, want) << c["name"];
    EXPECT_EQ(world().decode(got), text) << c["name"];
    ++n;
  }
  EXPECT_EQ(n, 61);
  EXPECT_EQ(world().vocab_size(), 65530);
}

TEST(RwkvWorld, SpecExamples) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tokenizer/rwkv_vocab_v20230424.txt");
  EXPECT_EQ(world().encode("\n\n"), (std::vector<int32_t>{261}));
  EXPECT_EQ(world().encode("User: hi\n\nAssistant:"), (std::vector<int32_t>{24281, 59, 4571, 261, 5585, 41693, 59}));
  EXPECT_EQ(world().encode("The Eiffel tower is in the city of"),
            (std::vector<int32_t>{6699, 304, 25740, 109, 39990, 4600, 4596, 22590, 30449, 4706}));
  EXPECT_EQ(world().token_bytes(65529), std::string(128, ' '));
  EXPECT_THROW(world().decode(std::vector<int32_t>{70000}), Error);
}

TEST(RwkvWorld, ParsesPythonLiterals) {
  EXPECT_EQ(parse_python_literal("'a b'", "t"), "a b");
  EXPECT_EQ(parse_python_literal("'\\x00\\n\\\\'", "t"), std::string("\0\n\\", 3));
  EXPECT_EQ(parse_python_literal("'\\x80'", "t"), "\xc2\x80");  // str: code point U+0080
  EXPECT_EQ(parse_python_literal("b'\\x80'", "t"), "\x80");      // bytes: the byte 0x80
  EXPECT_EQ(parse_python_literal("'\\u4f60'", "t"), "\xe4\xbd\xa0");
  EXPECT_EQ(parse_python_literal("\"it's\"", "t"), "it's");
  EXPECT_THROW(parse_python_literal("'abc", "t"), Error);
  EXPECT_THROW(parse_python_literal("'\\x4'", "t"), Error);
}

TEST(RwkvWorld, RejectsBrokenVocabularies) {
  EXPECT_THROW(RwkvWorldTokenizer::from_text("1 'a' 2\n", "v"), Error);            // length lies
  EXPECT_THROW(RwkvWorldTokenizer::from_text("2 'a' 1\n", "v"), Error);            // id out of sequence
  EXPECT_THROW(RwkvWorldTokenizer::from_text("1 'a' 1\n2 'b' 1\n", "v"), Error);   // bytes not all covered
  try {
    RwkvWorldTokenizer::from_text("1 'a 1\n", "vocab.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.txt:1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gander
