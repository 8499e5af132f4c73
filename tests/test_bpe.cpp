// The byte-level BPE tokenizer against Hugging Face tokenizers' ids.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "testdata.h"
#include "tokenize/bpe.h"

namespace gander {
namespace {

void check_goldens(const std::string& tokenizer, const std::string& key) {
  const auto tok = BpeTokenizer::from_file(test::testdata(tokenizer));
  std::ifstream f(test::testdata("qwen2/tokenizer/tokenizer_goldens.json"));
  const auto j = nlohmann::json::parse(f);
  const auto& strings = j["strings"];
  int exact = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    const std::string s = strings[i].get<std::string>();
    const auto want = j[key][i].get<std::vector<int32_t>>();
    const auto got = tok->encode(s);
    EXPECT_EQ(got, want) << "string " << i << ": '" << s << "'";
    exact += got == want;
    if (j[key + "_decoded_roundtrip"][i].get<bool>()) {
      EXPECT_EQ(tok->decode(got), s) << "string " << i;
    }
  }
  EXPECT_EQ(exact, int(strings.size()));
}

TEST(Bpe, TeacherTokenizerMatchesEveryGolden) {
  GANDER_REQUIRE_TESTDATA("qwen2/tokenizer/tokenizer_goldens.json");
  check_goldens("qwen2/qwen2-tiny/tokenizer.json", "small_bpe");
}

TEST(Bpe, RealQwenTokenizerMatchesEveryGolden) {
  GANDER_REQUIRE_TESTDATA("qwen2/tokenizer/qwen3_tokenizer.json");
  check_goldens("qwen2/tokenizer/qwen3_tokenizer.json", "qwen3");
}

TEST(Bpe, SpecialTokensAndBadInput) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/tokenizer.json");
  const auto tok = BpeTokenizer::from_file(test::testdata("qwen2/qwen2-tiny/tokenizer.json"));
  EXPECT_EQ(tok->special_id("<|im_end|>"), 8194);
  const auto ids = tok->encode("<|im_start|>user\nhi<|im_end|>");
  EXPECT_EQ(ids.front(), 8193);
  EXPECT_EQ(ids.back(), 8194);
  EXPECT_EQ(tok->decode(ids), "<|im_start|>user\nhi<|im_end|>");
  EXPECT_THROW(tok->encode("bad \xff byte"), Error);
  EXPECT_THROW(tok->decode(std::vector<int32_t>{99999}), Error);
  const std::string path = test::temp_path("wordpiece.json");
  std::ofstream(path) << R"({"model": {"type": "WordPiece", "vocab": {}}})";
  try {
    BpeTokenizer::from_file(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.type"), std::string::npos) << e.what();
  }
  // A BPE model whose pre-tokenizer is not Qwen2's Split + ByteLevel sequence.
  std::ofstream(path) << R"({"model": {"type": "BPE", "vocab": {}, "merges": []}, "normalizer": null,
                             "pre_tokenizer": {"type": "Whitespace"}})";
  try {
    BpeTokenizer::from_file(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pre_tokenizer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gander
