#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "core/rng.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "op_registry.h"
#include "test_io_writers.h"
#include "testdata.h"

namespace gander::io {
namespace {

using test::error_of;
using test::temp_path;

using test::safetensors_bytes;
using test::write_file;

TEST(Safetensors, RoundTripsEveryDtypeAndMetadata) {
  Rng rng(1);
  NamedTensors ts = {{"a", test::random_tensor(rng, {3, 5})},
                     {"b.weight", test::random_tensor(rng, {7}, 1.0f, DType::BF16)},
                     {"c", test::random_tensor(rng, {2, 2, 2}, 1.0f, DType::F16)},
                     {"empty", Tensor::empty(DType::F32, {0, 4})}};
  const std::string path = temp_path("rt.safetensors");
  save_safetensors(path, ts, {{"format", "pt"}, {"gander", "1"}});
  Checkpoint ck = load_safetensors(path);
  ASSERT_EQ(ck.size(), ts.size());
  EXPECT_EQ(ck.metadata().at("gander"), "1");
  for (auto& [name, t] : ts) {
    const Tensor& got = ck.get(name);
    EXPECT_EQ(got.dtype(), t.dtype()) << name;
    EXPECT_EQ(got.shape(), t.shape()) << name;
    EXPECT_EQ(std::memcmp(got.raw(), t.raw(), t.nbytes()), 0) << name;
    EXPECT_FALSE(got.writable()) << "tensors should be views of the mapped file";
  }
  EXPECT_NE(error_of([&] { ck.get("nope"); }).find("missing tensor 'nope'"), std::string::npos);
}

TEST(Safetensors, RejectsBadFilesWithAClearMessage) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* expect;
  };
  const std::string ok_hdr = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string huge(8, '\xff');
  std::vector<Case> cases = {
      {"short", "abc", "shorter than"},
      {"huge header", huge + "{}", "implausible"},
      {"header past end", safetensors_bytes(ok_hdr, 8).substr(0, 20), "truncated"},
      {"not json", safetensors_bytes("{not json", 0), "not valid JSON"},
      {"not object", safetensors_bytes("[1,2]", 0), "not an object"},
      {"truncated data", safetensors_bytes(ok_hdr, 4), "beyond the end"},
      {"unknown dtype", safetensors_bytes(R"({"x":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8), "unsupported dtype 'Q9'"},
      {"size lies", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 12), "do not hold"},
      {"reversed", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8), "reversed"},
      {"negative shape", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "non-negative"},
      {"overlap",
       safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "overlap"},
      {"missing offsets", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2]}})", 8), "data_offsets"},
      {"bad metadata", safetensors_bytes(R"({"__metadata__":{"a":1}})", 0), "not a string"},
  };
  for (auto& c : cases) {
    const std::string path = temp_path("bad.safetensors");
    write_file(path, c.bytes);
    const std::string err = error_of([&] { load_safetensors(path); });
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.name << ": got '" << err << "'";
    EXPECT_NE(err.find(path), std::string::npos) << c.name << ": error should name the file: " << err;
  }
}

// nlohmann's DOM keeps the last of two equal keys: a second "x" silently replaced the first.
TEST(Safetensors, DuplicateKeysAreRefused) {
  const std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  struct Case {
    std::string header, expect;
  };
  const std::vector<Case> cases = {
      {"{\"x\":" + entry + ",\"x\":" + entry + "}", "gives the key 'x' twice"},
      {R"({"x":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})", "gives the key 'dtype' twice"},
      {R"({"__metadata__":{"a":"1","a":"2"}})", "gives the key 'a' twice"},
      {R"({"__metadata__":{},"__metadata__":{}})", "gives the key '__metadata__' twice"},
  };
  for (const Case& c : cases) {
    const std::string path = temp_path("dup.safetensors");
    write_file(path, safetensors_bytes(c.header, 4));
    const std::string err = error_of([&] { load_safetensors(path); });
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.header << " -> '" << err << "'";
    EXPECT_NE(err.find(path), std::string::npos) << err;
  }
}

// Only neighbours were compared after sorting, and an empty tensor between two overlapping ones
// hid the overlap: [0, 8) and [4, 12) with an empty tensor at 2.
TEST(Safetensors, OverlapsAreFoundAcrossEmptyTensors) {
  const std::string path = temp_path("overlap.safetensors");
  write_file(path, safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("e":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                              12));
  const std::string err = error_of([&] { load_safetensors(path); });
  EXPECT_NE(err.find("tensors 'a' and 'b' overlap"), std::string::npos) << err;
  // A range nested inside an earlier long one, behind a shorter one that starts later.
  write_file(path, safetensors_bytes(R"({"a":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},)"
                              R"("b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},)"
                              R"("c":{"dtype":"U8","shape":[1],"data_offsets":[5,6]}})",
                              10));
  EXPECT_NE(error_of([&] { load_safetensors(path); }).find("overlap"), std::string::npos);
  // Empty tensors anywhere, even inside another's bytes, overlap nothing.
  write_file(path, safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                              12));
  EXPECT_EQ(load_safetensors(path).size(), 3u);
}

// Unsigned values are reported as written, and every limit names the file.
TEST(Safetensors, HugeNumbersAndDeepNestingAreClearErrors) {
  struct Case {
    std::string header, expect;
  };
  const std::vector<Case> cases = {
      {R"({"x":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})",
       "shape entry 18446744073709551615 is too large"},
      {R"({"x":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", "too large"},
      {R"({"x":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}})",
       "shape [1099511627776, 1099511627776] is too large"},
      {R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}})",
       "[0, 18446744073709551615) lies beyond the end"},
      {R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"y":)" + std::string(20, '[') + std::string(20, ']') + "}}",
       "nests deeper than 16 levels"},
      {R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x)", "not valid JSON"},
  };
  for (const Case& c : cases) {
    const std::string path = temp_path("huge.safetensors");
    write_file(path, safetensors_bytes(c.header, 4));
    const std::string err = error_of([&] { load_safetensors(path); });
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.header.substr(0, 100) << " -> '" << err << "'";
    EXPECT_NE(err.find(path), std::string::npos) << err;
  }
  std::string dims = "1";
  for (int i = 0; i < 64; ++i) dims += ",1";
  const std::string path = temp_path("dims.safetensors");
  write_file(path, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[)" + dims + R"(],"data_offsets":[0,4]}})", 4));
  EXPECT_NE(error_of([&] { load_safetensors(path); }).find("65 dimensions"), std::string::npos);
}

// The index of a sharded model is read with the header's limits, and a shard name too long for
// the file system let std::filesystem_error out of the reader.
TEST(Safetensors, IndexIsReadWithTheHeaderLimits) {
  const std::string dir = temp_path("index");
  std::filesystem::create_directories(dir);
  const std::string index = dir + "/model.safetensors.index.json";
  struct Case {
    std::string json, expect;
  };
  const std::vector<Case> cases = {
      {R"({"weight_map":{"w":")" + std::string(5000, 'a') + R"("}})", "is missing"},
      {R"({"weight_map":{"w":"a.safetensors","w":"b.safetensors"}})", "gives the key 'w' twice"},
      {R"({"metadata":)" + std::string(100, '[') + std::string(100, ']') + R"(,"weight_map":{}})", "nests deeper"},
      {R"({"weight_map":{"w":"../x.safetensors"}})", "must be a file in the same folder"},
  };
  for (const Case& c : cases) {
    write_file(index, c.json);
    const std::string err = error_of([&] { load_checkpoint(dir); });
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.json.substr(0, 80) << " -> '" << err << "'";
    EXPECT_NE(err.find(index), std::string::npos) << err;
  }
}

TEST(Safetensors, SaveIsAtomic) {
  const std::string path = temp_path("atomic.safetensors");
  Rng rng(2);
  save_safetensors(path, {{"a", test::random_tensor(rng, {4})}});
  Checkpoint before = load_safetensors(path);
  // A failing write (duplicate names) must leave the old file intact and no temp file behind.
  EXPECT_THROW(save_safetensors(path, {{"a", test::random_tensor(rng, {4})}, {"a", test::random_tensor(rng, {4})}}), Error);
  EXPECT_EQ(load_safetensors(path).get("a").to_f32_vector(), before.get("a").to_f32_vector());
  for (auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(Safetensors, ShardedIndexLoadsAndReportsMissingShards) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-small/model.safetensors.index.json");
  Checkpoint ck = load_checkpoint(test::testdata("qwen2/qwen2-small"));
  EXPECT_EQ(ck.format(), "safetensors-sharded");
  EXPECT_TRUE(ck.contains("model.embed_tokens.weight"));
  EXPECT_EQ(ck.get("model.embed_tokens.weight").dtype(), DType::BF16);
  // An index that lists a shard that is not there.
  const std::string dir = temp_path("sharded");
  std::filesystem::create_directories(dir);
  write_file(dir + "/model.safetensors.index.json", R"({"weight_map":{"w":"model-00009-of-00009.safetensors"}})");
  const std::string err = error_of([&] { load_checkpoint(dir); });
  EXPECT_NE(err.find("model-00009-of-00009.safetensors"), std::string::npos) << err;
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
}

}  // namespace
}  // namespace gander::io
