// The RWKV World vocabulary parser on bad files: every error names <file>:<line>, numbers are
// parsed strictly, literals follow Python (and UTF-8) rules, and files are read with limits.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "testdata.h"
#include "tokenize/byte_trie.h"
#include "tokenize/rwkv_world.h"

namespace gander {
namespace {

// Lines 1..256: one bytes literal per byte value (ids 1..256), the smallest valid vocabulary.
std::string byte_lines() {
  std::string out;
  char buf[32];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "%d b'\\x%02x' 1\n", b + 1, b);
    out += buf;
  }
  return out;
}

std::string parse_error(const std::string& extra_lines) {
  return test::error_of([&] { RwkvWorldTokenizer::from_text(byte_lines() + extra_lines, "v.txt"); });
}

#define EXPECT_PARSE_FAILS(extra, ...)                                 \
  do {                                                                 \
    const std::string message = parse_error(extra);                    \
    EXPECT_NE(message, "") << "parsed without error";                 \
    for (const char* part : {__VA_ARGS__})                             \
      EXPECT_NE(message.find(part), std::string::npos) << message;     \
  } while (0)

TEST(RwkvInput, MinimalVocabularyWorks) {
  const auto tok = RwkvWorldTokenizer::from_text(byte_lines() + "257 'ab' 2\n258 'abc' 3\n", "v.txt");
  EXPECT_EQ(tok.vocab_size(), 259);
  EXPECT_EQ(tok.encode("abcab\xff"), (std::vector<int32_t>{258, 257, 256}));
  EXPECT_EQ(tok.decode(tok.encode("x abc")), "x abc");
}

// Defect: "duplicate vocabulary entry for token 513" named neither the file nor the line.
TEST(RwkvInput, DuplicateEntryNamesFileAndLines) {
  EXPECT_PARSE_FAILS("257 'ab' 2\n258 b'ab' 2\n", "v.txt:258: duplicate vocabulary entry", "token 258",
                     "token 257 (line 257)");
  EXPECT_PARSE_FAILS("257 'a' 1\n", "v.txt:257:", "token 98 (line 98)");
}

// std::stoll took "257x" as 257 and threw std::out_of_range on 20 digits.
TEST(RwkvInput, NumbersAreParsedStrictly) {
  EXPECT_PARSE_FAILS("257x 'ab' 2\n", "v.txt:257: id '257x' is not a decimal number");
  EXPECT_PARSE_FAILS("+257 'ab' 2\n", "v.txt:257: id '+257'");
  EXPECT_PARSE_FAILS("257 'ab' 2x\n", "v.txt:257: length '2x'");
  EXPECT_PARSE_FAILS("99999999999999999999 'ab' 2\n", "v.txt:257: id");
  EXPECT_PARSE_FAILS("257 'ab' 99999999999999999999\n", "v.txt:257: length");
  EXPECT_PARSE_FAILS("257 'ab' 3\n", "v.txt:257: literal has 2 bytes but the line says 3");
  EXPECT_PARSE_FAILS("300 'ab' 2\n", "v.txt:257: id 300 out of sequence");
}

TEST(RwkvInput, LiteralsFollowPythonAndUtf8) {
  EXPECT_PARSE_FAILS("257 '\\U00110000' 4\n", "v.txt:257:", "beyond U+10FFFF");
  EXPECT_PARSE_FAILS("257 '\\ud800' 3\n", "v.txt:257:", "surrogate");
  EXPECT_PARSE_FAILS("257 '\\U0000dfff' 3\n", "v.txt:257:", "surrogate");
  EXPECT_PARSE_FAILS("257 b'\xc3\xa9' 2\n", "v.txt:257:", "non-ASCII character in a bytes literal");
  EXPECT_PARSE_FAILS("257 '\\q' 1\n", "v.txt:257: unknown escape");
  EXPECT_PARSE_FAILS("257 '' 0\n", "v.txt:257: empty token");
  const std::string long_token(ByteTrie::kMaxKeyBytes + 1, 'z');
  EXPECT_PARSE_FAILS("257 '" + long_token + "' " + std::to_string(long_token.size()) + "\n", "v.txt:257:", "limit");
  // What Python accepts is accepted: str escapes up to U+10FFFF, octal bytes masked to 8 bits.
  EXPECT_EQ(parse_python_literal("'\\U0010ffff'", "t"), "\xf4\x8f\xbf\xbf");
  EXPECT_EQ(parse_python_literal("b'\\777'", "t"), "\xff");
}

TEST(RwkvInput, FilesAreReadWithLimits) {
  const std::string fifo = test::temp_path("vocab_fifo.txt");
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);  // reading it used to block forever
  EXPECT_NE(test::error_of([&] { RwkvWorldTokenizer::from_file(fifo); }).find("not a regular file"), std::string::npos);
  std::filesystem::remove(fifo);
  const std::string big = test::temp_path("vocab_big.txt");
  { std::ofstream(big) << "1 'a' 1\n"; }
  std::filesystem::resize_file(big, 17 << 20);  // sparse: no disk used
  EXPECT_NE(test::error_of([&] { RwkvWorldTokenizer::from_file(big); }).find("larger than the limit"), std::string::npos);
  std::filesystem::remove(big);
}

}  // namespace
}  // namespace gander
