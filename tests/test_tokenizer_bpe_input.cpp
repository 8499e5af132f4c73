// The BPE tokenizer on bad tokenizer.json files and on the encoding rules they can exercise:
// every defect found by fuzzing has a case here (out-of-range ids, empty added tokens, regexes
// that match the empty string or backtrack forever, duplicates, huge ids, wrong JSON types).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <utf8proc.h>

#include "core/error.h"
#include "testdata.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_merges.h"
#include "tokenize/byte_trie.h"
#include "tokenize/tokenizer.h"
#include "tokenize/utf8.h"

namespace gander {
namespace {

using json = nlohmann::json;

// GPT-2's byte-to-unicode map (as the loader has it), to write a byte-level vocabulary.
std::string byte_level(const std::string& raw) {
  std::string out;
  for (unsigned char b : raw) {
    uint32_t cp = b, extra = 256;
    if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)) {
      for (uint32_t c = 0; c < b; ++c)
        if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || c >= 174)) ++extra;
      cp = extra;
    }
    append_utf8(out, cp);
  }
  return out;
}

constexpr const char* kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// A small valid tokenizer.json: the 256 byte tokens (ids 0..255), "ab" = 256 (merge a + b),
// "ba" = 257 (merge b + a), and the added tokens <s> = 258 and <s>x = 259.
json tiny_tokenizer(const std::string& pattern = kQwenPattern) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level(std::string(1, char(b)))] = b;
  vocab["ab"] = 256;
  vocab["ba"] = 257;
  json added = json::array();
  added.push_back({{"id", 258}, {"content", "<s>"}, {"special", true}});
  added.push_back({{"id", 259}, {"content", "<s>x"}, {"special", true}});
  return {{"added_tokens", added},
          {"normalizer", {{"type", "NFC"}}},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"byte_fallback", false}, {"vocab", vocab},
            {"merges", json::array({json::array({"a", "b"}), json::array({"b", "a"})})}}}};
}

std::unique_ptr<BpeTokenizer> load(const json& j) { return BpeTokenizer::from_json_text(j.dump(), "tok.json"); }

// The gander::Error that loading j throws (any other exception fails the test by escaping).
std::string load_error(const json& j) {
  return test::error_of([&] { load(j); });
}

#define EXPECT_LOAD_FAILS(j, ...)                                         \
  do {                                                                    \
    const std::string message = load_error(j);                            \
    EXPECT_NE(message, "") << "loaded without error";                    \
    for (const char* part : {__VA_ARGS__})                                \
      EXPECT_NE(message.find(part), std::string::npos) << message;        \
  } while (0)

std::vector<int32_t> byte_ids(const std::string& s) {
  std::vector<int32_t> ids;
  for (unsigned char c : s) ids.push_back(c);
  return ids;
}

TEST(BpeInput, TinyTokenizerWorks) {
  const auto tok = load(tiny_tokenizer());
  EXPECT_EQ(tok->vocab_size(), 260);
  EXPECT_EQ(tok->encode("ab"), (std::vector<int32_t>{256}));
  // Added tokens: leftmost-longest, so "<s>x" wins over "<s>" and a near miss is plain text.
  EXPECT_EQ(tok->encode("<s>x<s>"), (std::vector<int32_t>{259, 258}));
  EXPECT_EQ(tok->encode("<s"), byte_ids("<s"));
  EXPECT_EQ(tok->special_id("<s>x"), 259);
  EXPECT_EQ(tok->special_id("<s"), -1);
  EXPECT_EQ(tok->decode(tok->encode("hi <s>x ab")), "hi <s>x ab");
}

// Defect 1: an added token's id was used as an index unchecked (negative, >= 2^31 as an unsigned
// JSON number, or INT32_MAX, whose max_id + 1 overflowed): a heap write out of bounds.
TEST(BpeInput, AddedTokenIdsOutOfRangeAreErrors) {
  for (const json& id : {json(-1), json(uint64_t(1) << 31), json(uint64_t(1) << 32), json(int64_t(INT32_MAX)),
                        json(uint64_t(UINT64_MAX))}) {
    json j = tiny_tokenizer();
    j["added_tokens"][1]["id"] = id;
    EXPECT_LOAD_FAILS(j, "tok.json: field 'added_tokens[1].id'", "out of range");
  }
  json j = tiny_tokenizer();
  j["model"]["vocab"]["ab"] = -5;
  EXPECT_LOAD_FAILS(j, "tok.json: field 'model.vocab.ab'", "out of range");
}

// Defect 2: an empty added token matched at every position without consuming anything, so
// encode looped forever, allocating.
TEST(BpeInput, EmptyAddedTokenIsAnError) {
  json j = tiny_tokenizer();
  j["added_tokens"].push_back({{"id", 260}, {"content", ""}});
  EXPECT_LOAD_FAILS(j, "tok.json: field 'added_tokens[2].content'", "empty");
  j["added_tokens"][2]["content"] = std::string(ByteTrie::kMaxKeyBytes + 1, 'x');
  EXPECT_LOAD_FAILS(j, "tok.json: field 'added_tokens[2].content'", "limit");
}

// Defect 3: an empty regex match dropped the character after it. Split(Isolated) as HF runs it
// keeps every byte: each empty match is a cut, one right after the previous match is skipped.
TEST(BpeInput, RegexThatMatchesEmptyLosesNothing) {
  for (const char* pattern : {"", "x*", "(?=b)", "\\b", "a*?", "(?<=a)", "$", "^"}) {
    const auto tok = load(tiny_tokenizer(pattern));
    for (const std::string text : {"abab", "a b", "ab\xc3\xa9\xe4\xb8\xad b", "xxabx", "b", "\xf0\x9f\x98\x80!"})
      EXPECT_EQ(tok->decode(tok->encode(text)), text) << "pattern '" << pattern << "', text '" << text << "'";
  }
  // "(?=b)" on "abab": Oniguruma's find-all gives the empty matches at 1 and 3 (the repeat at 1
  // is skipped by a character), so the pieces are "a" | "ba" | "b".
  EXPECT_EQ(load(tiny_tokenizer("(?=b)"))->encode("abab"), (std::vector<int32_t>{'a', 257, 'b'}));
  // The empty pattern cuts between every two characters: no merge can apply.
  EXPECT_EQ(load(tiny_tokenizer(""))->encode("abab"), byte_ids("abab"));
  // "x*" matches empty everywhere, so it cuts everywhere; "x" isolates the x's.
  EXPECT_EQ(load(tiny_tokenizer("x*"))->encode("abxab"), byte_ids("abxab"));
  EXPECT_EQ(load(tiny_tokenizer("x"))->encode("abxab"), (std::vector<int32_t>{256, 'x', 256}));
}

TEST(BpeInput, CatastrophicRegexFailsNamingFileAndField) {
  const auto tok = load(tiny_tokenizer("(a+)+$"));
  const std::string message = test::error_of([&] { tok->encode(std::string(40, 'a') + "b"); });
  EXPECT_NE(message.find("tok.json: field 'pre_tokenizer.pretokenizers[0].pattern.Regex'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("limit"), std::string::npos) << message;
  EXPECT_LOAD_FAILS(tiny_tokenizer("(unclosed"), "tok.json: field 'pre_tokenizer.pretokenizers[0].pattern.Regex'",
                    "does not compile");
  EXPECT_LOAD_FAILS(tiny_tokenizer("a\\Cb"), "pattern.Regex", "does not compile");
}

// Defect 4: duplicates were accepted silently.
TEST(BpeInput, DuplicateIdsAreErrors) {
  json j = tiny_tokenizer();
  j["model"]["vocab"]["ba"] = 256;  // "ab" has it
  EXPECT_LOAD_FAILS(j, "tok.json: field 'model.vocab.", "256", "share an id");
  j = tiny_tokenizer();
  j["added_tokens"][0]["id"] = 97;  // the vocabulary token "a"
  EXPECT_LOAD_FAILS(j, "tok.json: field 'added_tokens[0].id'", "vocabulary token \"a\"");
  j = tiny_tokenizer();
  j["added_tokens"][1]["id"] = 258;  // "<s>" has it
  EXPECT_LOAD_FAILS(j, "tok.json: field 'added_tokens[1].id'", "added_tokens[0]");
  j = tiny_tokenizer();
  j["added_tokens"][1]["content"] = "<s>";  // one text, two ids
  EXPECT_LOAD_FAILS(j, "tok.json: field 'added_tokens[1].content'", "added_tokens[0]");
  // What real files do: a special token listed both in the vocabulary and as an added token, with
  // one text; and the same added token listed twice.
  j = tiny_tokenizer();
  j["model"]["vocab"]["<s>"] = 258;
  j["added_tokens"].push_back(j["added_tokens"][0]);
  const auto tok = load(j);
  EXPECT_EQ(tok->encode("<s>"), (std::vector<int32_t>{258}));
  EXPECT_EQ(tok->decode(std::vector<int32_t>{258}), "<s>");
  // A merge rule given twice keeps its last rank, as in HF.
  j = tiny_tokenizer();
  j["model"]["merges"] = json::array({json::array({"a", "b"}), json::array({"b", "a"}), json::array({"a", "b"})});
  EXPECT_EQ(load(j)->encode("aba"), (std::vector<int32_t>{'a', 257}));
}

// Defect 5 (added tokens): every byte that could start an added token was compared with every
// added token, so many added tokens and a text of their common prefix took minutes.
TEST(BpeInput, ManyAddedTokensCostLittlePerByte) {
  json j = tiny_tokenizer();
  for (int i = 0; i < 20000; ++i) j["added_tokens"].push_back({{"id", 260 + i}, {"content", "<t" + std::to_string(i) + ">"}});
  const auto tok = load(j);
  std::string text;
  while (text.size() < (size_t(1) << 20)) text += "<t";
  text += "<t19999>";
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tok->encode(text);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ids.back(), 260 + 19999);
  EXPECT_LT(s, 5.0);  // about 0.05 s; the scan over all added tokens took minutes
}

TEST(BpeInput, RealTokenizersStillLoad) {
  for (const char* rel : {"qwen2/qwen2-small/tokenizer.json", "qwen2/tokenizer/qwen3_tokenizer.json"}) {
    if (!std::filesystem::exists(test::testdata(rel))) GTEST_SKIP() << "test data not found: " << rel;
    const auto tok = BpeTokenizer::from_file(test::testdata(rel));
    EXPECT_GT(tok->vocab_size(), 8000);
    EXPECT_GE(tok->special_id("<|im_end|>"), 0);
  }
}

// Defect 6: a file of a few hundred bytes could demand 500 MB through one large id.
TEST(BpeInput, IdsMustStayNearTheNumberOfTokens) {
  json j = tiny_tokenizer();
  j["added_tokens"][1]["id"] = 16000000;
  EXPECT_LOAD_FAILS(j, "tok.json: field 'added_tokens[1].id'", "out of range");
  j["added_tokens"][1]["id"] = 2 * 260 + 1024;  // just past the limit
  EXPECT_LOAD_FAILS(j, "added_tokens[1].id");
  j["added_tokens"][1]["id"] = 2 * 260 + 1023;  // gaps below it are allowed
  const auto tok = load(j);
  EXPECT_EQ(tok->vocab_size(), 2 * 260 + 1024);
  EXPECT_THROW(tok->decode(std::vector<int32_t>{1000}), Error);  // a gap decodes to an error
}

// Defect 7: json exceptions ("type must be string, but is number") reached the user. Every wrong
// type is a gander::Error naming the file and the field.
TEST(BpeInput, WrongJsonTypesNameTheField) {
  struct Case {
    std::string pointer;  // JSON pointer of the value to replace
    json value;
    std::string field;  // expected in the message
  };
  const std::vector<Case> cases = {
      {"/added_tokens/1/content", 5, "field 'added_tokens[1].content' must be a string, got 5"},
      {"/added_tokens/0/id", "x", "field 'added_tokens[0].id' must be an integer, got \"x\""},
      {"/added_tokens/0/id", 1.5, "field 'added_tokens[0].id' must be an integer, got 1.5"},
      {"/added_tokens/0", 7, "field 'added_tokens[0]' must be an object, got 7"},
      {"/added_tokens", json::object(), "field 'added_tokens' must be an array"},
      {"/model/merges/0", 5, "field 'model.merges[0]' must be an array"},
      {"/model/merges/0", json::array({"a"}), "field 'model.merges[0]' must be a pair"},
      {"/model/merges/1", json::array({1, 2}), "field 'model.merges[1][0]' must be a string, got 1"},
      {"/model/merges/0", "ab", "field 'model.merges[0]' must be \"left right\""},
      {"/model/merges/0", "a b c", "field 'model.merges[0]' must be \"left right\""},
      {"/model/merges/0", json::array({"a", "q"}), "field 'model.merges[0]'"},
      {"/model/merges", "x", "field 'model.merges' must be an array"},
      {"/model/vocab", json::array(), "field 'model.vocab' must be an object, got an array"},
      {"/model/vocab/ab", "x", "field 'model.vocab.ab' must be an integer"},
      {"/model/vocab/a b", 300, "field 'model.vocab[\"a b\"]' is not byte-level encoded"},
      {"/model/type", 5, "field 'model.type' must be a string, got 5"},
      {"/model/type", "WordPiece", "field 'model.type' must be \"BPE\""},
      {"/model/byte_fallback", "yes", "field 'model.byte_fallback' must be true or false"},
      {"/model/dropout", 0.1, "field 'model.dropout'"},
      {"/model", nullptr, "field 'model' must be an object, got null"},
      {"/normalizer", 5, "field 'normalizer' must be an object"},
      {"/normalizer/type", "NFKC", "field 'normalizer.type'"},
      {"/pre_tokenizer", json::array(), "field 'pre_tokenizer' must be an object"},
      {"/pre_tokenizer/pretokenizers/0", 5, "field 'pre_tokenizer.pretokenizers[0]' must be an object"},
      {"/pre_tokenizer/pretokenizers/0/pattern", "x", "field 'pre_tokenizer.pretokenizers[0].pattern' must be an object"},
      {"/pre_tokenizer/pretokenizers/0/pattern/Regex", 5,
       "field 'pre_tokenizer.pretokenizers[0].pattern.Regex' must be a string, got 5"},
      {"/pre_tokenizer/pretokenizers/0/type", json::array({1}), "field 'pre_tokenizer.pretokenizers[0].type' must be a string, got an array"},
      {"/pre_tokenizer/pretokenizers/1/use_regex", "no", "field 'pre_tokenizer.pretokenizers[1].use_regex' must be true or false"},
  };
  for (const Case& c : cases) {
    json j = tiny_tokenizer();
    j[json::json_pointer(c.pointer)] = c.value;
    EXPECT_LOAD_FAILS(j, "tok.json: ", c.field.c_str());
  }
  json j = tiny_tokenizer();
  j["model"].erase("vocab");
  EXPECT_LOAD_FAILS(j, "tok.json: field 'model.vocab' is missing");
  j = tiny_tokenizer();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"String", " "}};
  EXPECT_LOAD_FAILS(j, "field 'pre_tokenizer.pretokenizers[0].pattern.Regex' is missing");
  EXPECT_LOAD_FAILS(json::array(), "tok.json: the top level must be an object");
  EXPECT_NE(test::error_of([] { BpeTokenizer::from_json_text("{\"model\": ", "tok.json"); }).find("tok.json: not valid JSON"),
            std::string::npos);
  // A long string in a message is cut, and a key that is not an identifier is quoted.
  j = tiny_tokenizer();
  j["model"]["type"] = std::string(1000, 'x');
  EXPECT_LT(load_error(j).size(), 200u);
}

TEST(BpeInput, FilesAreReadWithLimits) {
  const std::string path = test::temp_path("tok_fifo.json");
  std::filesystem::remove(path);
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_NE(test::error_of([&] { BpeTokenizer::from_file(path); }).find("not a regular file"), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_NE(test::error_of([&] { load_tokenizer(path); }).find("no such tokenizer file or folder"), std::string::npos);
  const std::string folder = test::temp_path("tok_folder");
  std::filesystem::create_directories(folder);
  EXPECT_NE(test::error_of([&] { load_tokenizer(folder); }).find("folder has no tokenizer.json"), std::string::npos);
  // Parsing costs many times the file's size, so an oversized file is refused before reading.
  const std::string big = test::temp_path("tok_big.json");
  { std::ofstream(big) << "{}"; }
  std::filesystem::resize_file(big, BpeTokenizer::kMaxFileBytes + 1);  // sparse: no disk used
  EXPECT_NE(test::error_of([&] { BpeTokenizer::from_file(big); }).find("larger than the limit"), std::string::npos);
  std::filesystem::remove(big);
}

// NFC is applied only to the stretches that can change; the result must equal utf8proc's NFC of
// the whole text, whatever mix of bases, combining marks, Hangul jamo and singletons it holds.
TEST(BpeInput, PartialNfcEqualsWholeNfc) {
  const auto tok = load(tiny_tokenizer());
  const std::vector<uint32_t> alphabet = {'a', 'e', ' ', 'A', '.', 0xe9, 0x301, 0x300, 0x327, 0x344, 0x1100, 0x1161, 0x11a8,
                                          0xac00, 0x212b, 0x958, 0x4e2d, 0x201c, 0x2f8, 0x2ff, 0x1e0a, 0x323, 0x1f600};
  std::mt19937 rng(11);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const size_t len = rng() % 12;
    for (size_t i = 0; i < len; ++i) append_utf8(text, alphabet[rng() % alphabet.size()]);
    auto* nfc = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(text.c_str()));
    ASSERT_NE(nfc, nullptr);
    const std::string want(reinterpret_cast<const char*>(nfc));
    std::free(nfc);
    ASSERT_EQ(tok->decode(tok->encode(text)), want) << "round " << round;
  }
}

// The heap-based merge must give exactly the ids of the plain loop it replaced (merge the
// lowest-rank adjacent pair, leftmost on ties, until none has a rule), on random rule sets.
TEST(BpeInput, HeapMergeMatchesTheSimpleLoop) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    BpeMerges merges;
    std::map<std::pair<int32_t, int32_t>, std::pair<int32_t, int32_t>> rules;  // (l, r) -> (rank, merged)
    int32_t next_id = 4;
    const int n_rules = 1 + int(rng() % 12);
    for (int32_t rank = 0; rank < n_rules; ++rank) {
      const int32_t l = int32_t(rng() % uint32_t(next_id)), r = int32_t(rng() % uint32_t(next_id));
      rules[{l, r}] = {rank, next_id};
      merges.add(l, r, rank, next_id++);
    }
    for (int k = 0; k < 20; ++k) {
      std::vector<int32_t> sym(rng() % 40);
      for (auto& s : sym) s = int32_t(rng() % 4);
      std::vector<int32_t> want = sym;
      while (true) {
        int32_t best = INT32_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < want.size(); ++i)
          if (auto it = rules.find({want[i], want[i + 1]}); it != rules.end() && it->second.first < best)
            best = it->second.first, at = i;
        if (best == INT32_MAX) break;
        want[at] = rules[{want[at], want[at + 1]}].second;
        want.erase(want.begin() + long(at) + 1);
      }
      merges.apply(sym);
      ASSERT_EQ(sym, want) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace gander
