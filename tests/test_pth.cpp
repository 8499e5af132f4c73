#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "io/checkpoint.h"
#include "io/pth.h"
#include "io/safetensors.h"
#include "test_io_writers.h"
#include "testdata.h"

namespace gander::io {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}
using test::write_file;
std::string error_loading(const std::string& path) {
  try {
    load_pth(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_f32_vector() == b.to_f32_vector();
}

// The three files of each reference model hold the same bf16-exact numbers.
TEST(Pth, FormatsOfOneModelGiveIdenticalTensors) {
  for (const char* model : {"tiny", "small"}) {
    const std::string dir = std::string("rwkv7/") + model;
    GANDER_REQUIRE_TESTDATA(dir + "/model_bf16.pth");
    Checkpoint bf16 = load_checkpoint(test::testdata(dir + "/model_bf16.pth"));
    Checkpoint st = load_checkpoint(test::testdata(dir + "/model_f32.safetensors"));
    EXPECT_EQ(bf16.format(), "pth");
    ASSERT_EQ(bf16.size(), st.size());
    for (const std::string& name : st.names()) {
      ASSERT_TRUE(bf16.contains(name)) << name;
      EXPECT_EQ(bf16.get(name).dtype(), DType::BF16) << name;
      EXPECT_EQ(st.get(name).dtype(), DType::F32) << name;
      EXPECT_TRUE(identical(bf16.get(name), st.get(name))) << model << " " << name;
    }
    if (std::filesystem::exists(test::testdata(dir + "/model_f32.pth"))) {
      Checkpoint f32 = load_checkpoint(test::testdata(dir + "/model_f32.pth"));
      ASSERT_EQ(f32.size(), st.size());
      for (const std::string& name : st.names())
        EXPECT_EQ(std::memcmp(f32.get(name).raw(), st.get(name).raw(), st.get(name).nbytes()), 0) << name;
    }
  }
}

TEST(Pth, ShapesFollowTheStateDict) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tiny/model_f32.pth");
  Checkpoint ck = load_pth(test::testdata("rwkv7/tiny/model_f32.pth"));
  EXPECT_EQ(ck.get("emb.weight").shape(), (Shape{512, 128}));
  EXPECT_EQ(ck.get("blocks.0.att.x_r").shape(), (Shape{1, 1, 128}));
  EXPECT_EQ(ck.get("blocks.1.att.a1").shape(), (Shape{128, 48}));
  EXPECT_EQ(ck.get("blocks.0.att.r_k").shape(), (Shape{2, 64}));
}

TEST(Pth, RejectsCorruptFiles) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tiny/model_f32.pth");
  const std::string good = read_file(test::testdata("rwkv7/tiny/model_f32.pth"));
  const std::string path = test::temp_path("bad.pth");
  auto expect_error = [&](const std::string& bytes, const char* want, const char* what) {
    write_file(path, bytes);
    const std::string err = error_loading(path);
    EXPECT_NE(err.find(want), std::string::npos) << what << ": got '" << err << "'";
    EXPECT_NE(err.find(path), std::string::npos) << what << ": error must name the file: " << err;
  };
  expect_error(good.substr(0, good.size() / 2), "truncated", "cut in half");
  expect_error(good.substr(0, 10), "not a zip", "cut to 10 bytes");
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  expect_error(bad_magic, "wrong magic", "bad magic");

  // Splice a forbidden global into the pickle, keeping every offset: the tensor-rebuild global
  // becomes 'os.system___...' of the same length.
  const std::string needle = "torch._utils\n_rebuild_tensor_v2\n";
  std::string evil = good;
  size_t at = evil.find(needle);
  ASSERT_NE(at, std::string::npos);
  const std::string repl = "os\nsystem" + std::string(needle.size() - 10, '_') + "\n";
  evil.replace(at, needle.size(), repl);
  expect_error(evil, "refusing", "forbidden global");

  std::string bad_op = good;
  at = bad_op.find(needle);
  bad_op[at - 1] = '\xfe';  // the GLOBAL opcode byte becomes an unknown opcode
  expect_error(bad_op, "unsupported pickle opcode", "unknown opcode");
}

TEST(Checkpoints, EveryReferenceWeightFileLoads) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tiny");
  int files = 0;
  for (const char* dir : {"rwkv7", "qwen2", "radlads", "rwkv7-train"}) {
    if (!std::filesystem::exists(test::testdata(dir))) continue;
    for (auto& e : std::filesystem::recursive_directory_iterator(test::testdata(dir))) {
      const std::string p = e.path().string();
      if (!(p.ends_with(".pth") || p.ends_with(".safetensors") || p.ends_with(".index.json"))) continue;
      Checkpoint ck = load_checkpoint(p);
      EXPECT_GT(ck.size(), 0u) << p;
      for (const std::string& n : ck.names()) {
        const Tensor& t = ck.get(n);
        if (t.dtype() == DType::F32 || t.dtype() == DType::BF16 || t.dtype() == DType::F16) {
          for (float v : t.to_f32_vector()) ASSERT_TRUE(std::isfinite(v)) << p << " " << n;
        }
      }
      ++files;
    }
  }
  EXPECT_GE(files, 7);
}

}  // namespace
}  // namespace gander::io
