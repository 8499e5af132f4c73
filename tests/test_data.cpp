// Token shards: what `data build` writes is read back by an independent binidx reader written
// here from the published layout (Megatron's MMapIndexedDataset, as RWKV-LM reads it); gzip, zstd
// and JSONL inputs give the same tokens as plain text; broken inputs and shards are one-line
// errors that leave nothing behind; the window sampler visits every window once per epoch.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli_process.h"
#include "data/shard_builder.h"
#include "data/token_shard.h"
#include "data/windows.h"
#include "io/binidx.h"
#include "test_io_writers.h"
#include "testdata.h"
#include "tokenize/tokenizer.h"

namespace gander::test {
namespace {

namespace fs = std::filesystem;

void write_bytes(const std::string& path, const std::string& bytes) { write_file(path, bytes); }
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The published layout, read without gander's reader: magic, version, dtype code, counts, then
// sizes (int32), pointers (int64 byte offsets), document index (int64).
struct PlainShard {
  int code = 0;
  std::vector<int32_t> sizes;
  std::vector<int64_t> pointers, doc_index;
  std::vector<int64_t> tokens;
};
PlainShard read_plain(const std::string& prefix) {
  const std::string idx = file_bytes(prefix + ".idx"), bin = file_bytes(prefix + ".bin");
  PlainShard s;
  EXPECT_EQ(idx.substr(0, 9), std::string("MMIDIDX\0\0", 9));
  size_t at = 9;
  auto take = [&](auto& v) {
    std::memcpy(&v, idx.data() + at, sizeof(v));
    at += sizeof(v);
  };
  uint64_t version = 0, n = 0, m = 0;
  uint8_t code = 0;
  take(version), take(code), take(n), take(m);
  EXPECT_EQ(version, 1u);
  s.code = code;
  s.sizes.resize(n), s.pointers.resize(n), s.doc_index.resize(m);
  for (auto& v : s.sizes) take(v);
  for (auto& v : s.pointers) take(v);
  for (auto& v : s.doc_index) take(v);
  EXPECT_EQ(at, idx.size());
  const size_t w = code == 8 ? 2 : code == 4 ? 4 : 0;
  EXPECT_NE(w, 0u) << "dtype code " << int(code);
  for (size_t i = 0; w && i + w <= bin.size(); i += w) {
    if (w == 2) {
      uint16_t v;
      std::memcpy(&v, bin.data() + i, 2);
      s.tokens.push_back(v);
    } else {
      int32_t v;
      std::memcpy(&v, bin.data() + i, 4);
      s.tokens.push_back(v);
    }
  }
  return s;
}

std::string vocab_path() { return testdata("rwkv7/tokenizer/rwkv_vocab_v20230424.txt"); }

const std::vector<std::string> kDocs = {"The first document.\nIt has two lines.\n", "Zweites Dokument: \xc3\xa4\xc3\xb6\xc3\xbc.",
                                        ""};

class Shards : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(vocab_path())) GTEST_SKIP() << "test data not found: " << vocab_path();
    tok_ = load_tokenizer(vocab_path());
    dir_ = temp_path("shards_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string at(const std::string& name) const { return dir_ + "/" + name; }
  std::vector<std::string> text_files() {
    std::vector<std::string> paths;
    for (size_t i = 0; i < kDocs.size(); ++i) write_bytes(paths.emplace_back(at("doc" + std::to_string(i) + ".txt")), kDocs[i]);
    return paths;
  }
  std::vector<int64_t> expected_tokens() const {
    std::vector<int64_t> all;
    for (const auto& d : kDocs) {
      for (int32_t t : tok_->encode(d)) all.push_back(t);
      all.push_back(0);  // RWKV World's end of text
    }
    return all;
  }
  data::BuildProgress build(std::vector<std::string> inputs, const std::string& prefix,
                            data::InputFormat f = data::InputFormat::Auto) {
    data::BuildOptions o;
    o.inputs = std::move(inputs), o.prefix = prefix, o.format = f;
    return data::build_shard(*tok_, o);
  }
  std::unique_ptr<Tokenizer> tok_;
  std::string dir_;
};

TEST_F(Shards, AnIndependentReaderReadsWhatDataBuildWrote) {
  const auto p = build(text_files(), at("s"));
  const PlainShard s = read_plain(at("s"));
  EXPECT_EQ(s.code, 8);  // uint16: the RWKV World vocabulary has 65536 ids
  ASSERT_EQ(s.sizes.size(), kDocs.size());
  EXPECT_EQ(s.doc_index, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(s.tokens, expected_tokens());
  int64_t offset = 0;
  for (size_t i = 0; i < s.sizes.size(); ++i) {
    EXPECT_EQ(s.pointers[i], offset);
    offset += 2 * s.sizes[i];
  }
  EXPECT_EQ(s.sizes.back(), 1);  // an empty document is its end token
  EXPECT_EQ(p.documents, 3);
  EXPECT_EQ(p.tokens, int64_t(expected_tokens().size()));
  // gander's reader agrees, and the description names the tokenizer.
  const data::TokenShard shard(at("s"), tok_.get(), 65536);
  std::vector<int32_t> back(size_t(shard.tokens()));
  shard.read(0, back);
  EXPECT_EQ(std::vector<int64_t>(back.begin(), back.end()), expected_tokens());
  EXPECT_EQ(shard.reader().document_start(1), s.sizes[0]);
  ASSERT_TRUE(shard.info());
  EXPECT_EQ(shard.info()->end_token, 0);
  EXPECT_EQ(shard.info()->fingerprint, data::tokenizer_fingerprint(*tok_));
}

TEST_F(Shards, LargeVocabulariesAreStoredAsInt32) {
  EXPECT_EQ(io::token_width_for(65536), io::TokenWidth::U16);
  EXPECT_EQ(io::token_width_for(151936), io::TokenWidth::I32);
  io::BinidxWriter w(at("big"), io::TokenWidth::I32);
  const std::vector<int32_t> a = {151643, 0, 70000}, b = {5};
  w.add_document(a);
  w.add_document(b);
  w.commit();
  const PlainShard s = read_plain(at("big"));
  EXPECT_EQ(s.code, 4);
  EXPECT_EQ(s.tokens, (std::vector<int64_t>{151643, 0, 70000, 5}));
  EXPECT_EQ(s.pointers, (std::vector<int64_t>{0, 12}));
  io::BinidxWriter narrow(at("narrow"), io::TokenWidth::U16);
  EXPECT_NE(error_of([&] { narrow.add_document(a); }).find("does not fit the shard's uint16"), std::string::npos);
}

std::string gzip(const std::string& data) { return gzip_bytes(data); }
std::string zstd(const std::string& data) { return zstd_bytes(data); }

TEST_F(Shards, CompressedAndJsonlInputsGiveTheSameTokens) {
  build(text_files(), at("plain"));
  const std::string plain = file_bytes(at("plain.bin"));
  // Each document compressed; the zstd one as two frames and the gzip one as two members back to back.
  const std::string d0 = kDocs[0].substr(0, 7), d0b = kDocs[0].substr(7);
  write_bytes(at("a.txt.gz"), gzip(d0) + gzip(d0b));
  write_bytes(at("b.txt.zst"), zstd(kDocs[1].substr(0, 5)) + zstd(kDocs[1].substr(5)));
  write_bytes(at("c.txt"), kDocs[2]);
  build({at("a.txt.gz"), at("b.txt.zst"), at("c.txt")}, at("packed"));
  EXPECT_EQ(file_bytes(at("packed.bin")), plain);
  // JSONL: one document per line, blank lines skipped, CRLF endings, other fields ignored.
  std::string jsonl;
  for (const auto& d : kDocs) jsonl += nlohmann::json{{"id", 1}, {"text", d}}.dump() + "\r\n\n";
  write_bytes(at("docs.jsonl.zst"), zstd(jsonl));
  build({at("docs.jsonl.zst")}, at("lines"));
  EXPECT_EQ(file_bytes(at("lines.bin")), plain);
  EXPECT_EQ(file_bytes(at("lines.idx")), file_bytes(at("plain.idx")));
}

TEST_F(Shards, BrokenInputsAreOneLineErrorsThatWriteNothing) {
  const auto error = [&](const std::vector<std::string>& in, data::InputFormat f = data::InputFormat::Auto) {
    const std::string msg = error_of([&] { build(in, at("out"), f); });
    EXPECT_FALSE(fs::exists(at("out.bin")) || fs::exists(at("out.idx")) || fs::exists(at("out.json"))) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  };
  write_bytes(at("bad.jsonl"), "{\"text\": \"fine\"}\n{\"body\": \"no text field\"}\n");
  EXPECT_NE(error({at("bad.jsonl")}).find("bad.jsonl:2: no field 'text'"), std::string::npos);
  write_bytes(at("num.jsonl"), "{\"text\": 7}\n");
  EXPECT_NE(error({at("num.jsonl")}).find("num.jsonl:1: field 'text' is number"), std::string::npos);
  write_bytes(at("junk.jsonl"), "{\"text\": \"a\"\n");
  EXPECT_NE(error({at("junk.jsonl")}).find("junk.jsonl:1: not a JSON object"), std::string::npos);
  write_bytes(at("latin1.txt"), "caf\xe9");
  EXPECT_NE(error({at("latin1.txt")}).find("latin1.txt: not valid UTF-8 at byte 3"), std::string::npos);
  const std::string gz = gzip(std::string(5000, 'x'));
  write_bytes(at("cut.txt.gz"), gz.substr(0, gz.size() / 2));
  EXPECT_NE(error({at("cut.txt.gz")}).find("cut.txt.gz: the gzip stream is truncated"), std::string::npos);
  const std::string zs = zstd(std::string(5000, 'y') + "tail");
  write_bytes(at("cut.txt.zst"), zs.substr(0, zs.size() - 3));
  EXPECT_NE(error({at("cut.txt.zst")}).find("cut.txt.zst: the zstd stream is truncated"), std::string::npos);
  std::string corrupt = gzip("some text here");
  corrupt[12] ^= 0x55;
  write_bytes(at("corrupt.gz"), corrupt);
  EXPECT_NE(error({at("corrupt.gz")}).find("corrupt.gz: "), std::string::npos);
  EXPECT_NE(error({at("missing.txt")}).find("missing.txt"), std::string::npos);
  EXPECT_NE(error({dir_}).find("input is a folder, not a file"), std::string::npos);
  write_bytes(at("empty.jsonl"), "\n\n");
  EXPECT_NE(error({at("empty.jsonl")}).find("no documents"), std::string::npos);
}

TEST_F(Shards, BrokenShardsAreNamedErrors) {
  build(text_files(), at("s"));
  const std::string bin = file_bytes(at("s.bin")), idx = file_bytes(at("s.idx"));
  const auto open_error = [&](const Tokenizer* t = nullptr, int64_t vocab = 0) {
    return error_of([&] { data::TokenShard(at("s"), t, vocab); });
  };
  write_bytes(at("s.bin"), bin.substr(0, bin.size() - 2));
  EXPECT_NE(open_error().find("s.bin: " + std::to_string(bin.size() - 2) + " bytes, but its index"), std::string::npos);
  write_bytes(at("s.bin"), bin.substr(0, bin.size() - 1));
  EXPECT_NE(open_error().find("not a whole number of 2-byte tokens"), std::string::npos);
  write_bytes(at("s.bin"), bin);
  write_bytes(at("s.idx"), idx.substr(0, idx.size() - 8));
  EXPECT_NE(open_error().find("s.idx: the index holds"), std::string::npos);
  write_bytes(at("s.idx"), "not an index at all, clearly");
  EXPECT_NE(open_error().find("no MMIDIDX header"), std::string::npos);
  std::string bad_code = idx;
  bad_code[17] = 5;
  write_bytes(at("s.idx"), bad_code);
  EXPECT_NE(open_error().find("token dtype code 5"), std::string::npos);
  std::string bad_pointer = idx;
  bad_pointer[9 + 8 + 1 + 8 + 8 + 3 * 4 + 8] = 1;  // the second sequence's offset
  write_bytes(at("s.idx"), bad_pointer);
  EXPECT_NE(open_error().find("sequence 1 starts at byte"), std::string::npos);
  write_bytes(at("s.idx"), idx);
  EXPECT_EQ(open_error(), "");
  // Another tokenizer, or a model whose vocabulary is smaller than the shard's.
  const std::string qwen = testdata("qwen2/qwen2-tiny/tokenizer.json");
  if (fs::exists(qwen)) {
    const auto other = load_tokenizer(qwen);
    EXPECT_NE(open_error(other.get()).find("made by tokenizer"), std::string::npos);
  }
  EXPECT_NE(open_error(nullptr, 1000).find("do not fit a model of 1000"), std::string::npos);
  // Without its description a shard is checked token by token against the model's vocabulary.
  fs::remove(at("s.json"));
  EXPECT_NE(open_error(nullptr, 10).find("outside the model's vocabulary of 10"), std::string::npos);
  EXPECT_EQ(open_error(tok_.get(), 65536), "");
  EXPECT_EQ(open_error(nullptr, 65536), "");
}

TEST_F(Shards, TheCommandLineBuildsAndInspects) {
  const auto inputs = text_files();
  const CliResult r = run_cli("data build " + inputs[0] + " " + inputs[1] + " --tokenizer " + vocab_path() + " -o " +
                              at("cli") + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["documents"], 2);
  const CliResult i = run_cli("data inspect " + at("cli"));
  ASSERT_EQ(i.code, 0) << i.out;
  EXPECT_EQ(nlohmann::json::parse(i.out)["tokens"], j["tokens"]);
  const CliResult bad = run_cli("data build " + at("nothing.txt") + " --tokenizer " + vocab_path() + " -o " + at("x"));
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("error: "), std::string::npos) << bad.out;
  EXPECT_EQ(std::count(bad.out.begin(), bad.out.end(), '\n'), 1) << bad.out;
}

TEST(Windows, TheMagicPrimeIsTheLargestPrimeOfTheForm3kPlus2) {
  EXPECT_EQ(data::magic_prime(100), 89);
  EXPECT_EQ(data::magic_prime(2), 2);
  EXPECT_EQ(data::magic_prime(1), 0);
  EXPECT_EQ(data::magic_prime(1000003), 999983);
}

TEST(Windows, EveryWindowOnceAnEpochAndADifferentOrderEachEpoch) {
  const int64_t tokens = 100000, ctx = 64, valid = 5000;
  const data::WindowSampler s(tokens, ctx, valid, 7);
  EXPECT_EQ(s.windows_per_epoch(), data::magic_prime((tokens - valid - 1) / ctx));
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::set<int64_t> seen;
    for (int64_t i = 0; i < s.windows_per_epoch(); ++i) {
      const int64_t o = s.train_offset(epoch * s.windows_per_epoch() + i);
      EXPECT_EQ(o % ctx, 0);
      EXPECT_LE(o + ctx + 1, s.train_tokens());  // never reads into the validation split
      seen.insert(o);
    }
    EXPECT_EQ(int64_t(seen.size()), s.windows_per_epoch());
  }
  int64_t same = 0;
  for (int64_t i = 0; i < 50; ++i) same += s.train_offset(i) == s.train_offset(s.windows_per_epoch() + i);
  EXPECT_LT(same, 5);
  // The window of a sample depends on (seed, index) alone: a resumed run reads what it would have.
  const data::WindowSampler again(tokens, ctx, valid, 7), other(tokens, ctx, valid, 8);
  int64_t differ = 0;
  for (int64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(again.train_offset(i), s.train_offset(i));
    differ += other.train_offset(i) != s.train_offset(i);
  }
  EXPECT_GT(differ, 90);
  EXPECT_EQ(s.valid_windows(), (valid - 1) / ctx);
  EXPECT_EQ(s.valid_offset(0), tokens - valid);
  EXPECT_LE(s.valid_offset(s.valid_windows() - 1) + ctx + 1, tokens);
  EXPECT_NE(error_of([] { data::WindowSampler(100, 64, 10, 1); }).find("too few"), std::string::npos);
}

}  // namespace
}  // namespace gander::test
