// gander convert: every model written as safetensors reloads to the same logits, under either
// naming and after a dtype conversion.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "models/registry.h"
#include "testdata.h"

namespace gander::models {
namespace {

using test::error_of;
using test::max_diff;

const std::vector<int32_t> kIds = {1, 5, 77, 300, 2, 2, 9, 411, 0, 17};

Tensor logits_of(const std::string& path, const LoadOptions& opt = {}) {
  auto m = load_model(path, opt);
  Tensor logits;
  m->feed(kIds, logits, true);
  return logits;
}

TEST(Convert, Rwkv7RoundTripsUnderBothNamings) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tiny/model_f32.pth");
  const std::string src = test::testdata("rwkv7/tiny/model_f32.pth");
  const Tensor want = logits_of(src);
  const std::string official = test::temp_path("convert_official.safetensors"), hf = test::temp_path("convert_hf");
  convert_model(src, {official, std::nullopt, "official"});
  convert_model(src, {hf, std::nullopt, "hf"});
  EXPECT_EQ(max_diff(logits_of(official), want), 0.0);
  EXPECT_EQ(max_diff(logits_of(hf), want), 0.0);
  EXPECT_EQ(detect(ModelSource::open(hf)).name, "rwkv7");  // the folder's config.json names it
  // From the fla folder back to official names: the same file again.
  const std::string back = test::temp_path("convert_back.safetensors");
  convert_model(hf, {back, std::nullopt, "official"});
  EXPECT_EQ(max_diff(logits_of(back), want), 0.0);
  // Official names go to a file, not over a folder.
  EXPECT_NE(error_of([&] { convert_model(src, {hf, std::nullopt, "official"}); }).find("it is a folder"),
            std::string::npos);
  EXPECT_NE(error_of([&] { convert_model(src, {official, std::nullopt, "gguf"}); }).find("--names"), std::string::npos);
  // A folder naming needs a folder: an existing file there is refused, not replaced.
  EXPECT_NE(error_of([&] { convert_model(src, {official, std::nullopt, "hf"}); }).find("exists and is not a folder"),
            std::string::npos);
}

TEST(Convert, ADtypeConversionIsTheConvertedModel) {
  GANDER_REQUIRE_TESTDATA("rwkv7/tiny/model_f32.pth");
  const std::string src = test::testdata("rwkv7/tiny/model_f32.pth");
  const std::string out = test::temp_path("convert_bf16.safetensors");
  convert_model(src, {out, DType::BF16, "official"});
  LoadOptions bf16;
  bf16.convert = DType::BF16;
  EXPECT_EQ(max_diff(logits_of(out), logits_of(src, bf16)), 0.0);
  EXPECT_EQ(load_model(out, {})->matrix_dtype(), DType::BF16);
}

TEST(Convert, Qwen2FoldersRoundTripWithTheirTokenizer) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  const std::string src = test::testdata("qwen2/qwen2-tiny");
  const std::string out = test::temp_path("convert_qwen2");
  convert_model(src, {out, DType::F32, "hf"});
  LoadOptions f32;
  f32.convert = DType::F32;
  EXPECT_EQ(max_diff(logits_of(out), logits_of(src, f32)), 0.0);
  EXPECT_TRUE(std::filesystem::exists(out + "/tokenizer.json"));
  EXPECT_NE(error_of([&] { convert_model(src, {src, std::nullopt, "hf"}); }).find("the model's own folder"),
            std::string::npos);
}

}  // namespace
}  // namespace gander::models
