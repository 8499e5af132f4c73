// Encoding time on hostile texts with the real Qwen tokenizer. BPE merging used to be quadratic in
// the length of one pre-tokenized piece (40,000 spaces took 5.6 s, a megabyte never finished);
// each of these megabyte texts now takes well under a second. The bound is for all of them
// together and generous, so a slow machine passes but a quadratic step cannot.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "testdata.h"
#include "tokenize/bpe.h"
#include "tokenize/utf8.h"

namespace gander {
namespace {

constexpr size_t kMiB = size_t(1) << 20;

std::string repeat(const std::string& unit, size_t bytes) {
  std::string out;
  out.reserve(bytes + unit.size());
  while (out.size() < bytes) out += unit;
  return out;
}

// Valid UTF-8 of random code points from every length class (no surrogates).
std::string random_utf8(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < bytes) {
    uint32_t cp;
    switch (rng() % 4) {
      case 0: cp = rng() % 0x80; break;
      case 1: cp = 0x80 + rng() % (0x800 - 0x80); break;
      case 2: cp = 0x800 + rng() % (0x10000 - 0x800); break;
      default: cp = 0x10000 + rng() % (0x110000 - 0x10000); break;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    append_utf8(out, cp);
  }
  return out;
}

std::string random_chars(size_t n, const std::string& alphabet, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, ' ');
  for (char& c : out) c = alphabet[rng() % alphabet.size()];
  return out;
}

TEST(TokenizerHostile, MegabyteTextsEncodeInLinearTime) {
  GANDER_REQUIRE_TESTDATA("qwen2/tokenizer/qwen3_tokenizer.json");
  const auto tok = BpeTokenizer::from_file(test::testdata("qwen2/tokenizer/qwen3_tokenizer.json"));
  struct Case {
    const char* name;
    std::string text;
    bool round_trips;  // NFC leaves it as it is
  };
  const std::vector<Case> cases = {
      {"spaces", std::string(kMiB, ' '), true},
      {"mixed whitespace", repeat(" \t\n \r\n\xc2\xa0\xe3\x80\x80", kMiB), true},
      {"decomposed e-acute", repeat("e\xcc\x81", kMiB), false},
      {"one letter", std::string(kMiB, 'a'), true},
      {"one CJK character", repeat("\xe4\xb8\xad", kMiB), true},
      {"digits", random_chars(kMiB, "0123456789", 1), true},
      {"random UTF-8", random_utf8(kMiB, 2), false},
      {"100k-letter word", random_chars(100000, "abcdefghijklmnopqrstuvwxyz", 3), true},
      {"combining marks", repeat("\xcc\x81", kMiB).insert(0, 1, 'e'), false},
      {"punctuation", repeat("!", kMiB), true},
      {"added-token prefixes", repeat("<|im_", kMiB), true},
      {"text between added tokens", repeat("a<|im_end|>", kMiB), true},
  };
  double total = 0;
  for (const Case& c : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = tok->encode(c.text);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total += s;
    EXPECT_FALSE(ids.empty()) << c.name;
    if (c.round_trips) EXPECT_EQ(tok->decode(ids), c.text) << c.name;
    std::printf("  %-22s %8zu bytes -> %8zu ids in %.3f s\n", c.name, c.text.size(), ids.size(), s);
  }
  EXPECT_LT(total, 10.0) << "hostile texts took " << total << " s in all";
}

}  // namespace
}  // namespace gander
