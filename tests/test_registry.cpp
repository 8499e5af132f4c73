// The architecture registry: which architecture a path is, and what the user is told when it is
// none, or a piece of one.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "testdata.h"

namespace gander::models {
namespace {

using test::error_of;

std::string detected(const std::string& path) { return detect(ModelSource::open(path)).name; }

TEST(Registry, KnowsEachArchitectureByItsFiles) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  GANDER_REQUIRE_TESTDATA("rwkv7/tiny/model_f32.pth");
  EXPECT_EQ(detected(test::testdata("qwen2/qwen2-tiny")), "qwen2");
  EXPECT_EQ(detected(test::testdata("rwkv7/tiny/model_f32.pth")), "rwkv7");
  EXPECT_EQ(detected(test::testdata("rwkv7/tiny/model_f32.safetensors")), "rwkv7");
  EXPECT_EQ(architecture_names(), "rwkv7, qwen2, rad_rwkv7, rad_rwkv6");
}

TEST(Registry, PiecesOfAModelNameTheWhole) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  // One weights file of a Hugging Face folder, or its config.json, given as the model.
  EXPECT_NE(error_of([] { detected(test::testdata("qwen2/qwen2-tiny/model.safetensors")); }).find("give the folder"),
            std::string::npos);
  EXPECT_NE(error_of([] { ModelSource::open(test::testdata("qwen2/qwen2-tiny/config.json")); }).find("give the folder"),
            std::string::npos);
}

TEST(Registry, FoldersOfOtherArchitecturesAreNamedAsSuch) {
  const std::string dir = test::temp_path("registry_folders");
  std::filesystem::create_directories(dir + "/llama");
  io::write_file(dir + "/llama/config.json", R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})");
  EXPECT_NE(error_of([&] { detected(dir + "/llama"); }).find("model_type 'llama' is not an architecture gander runs (rwkv7, qwen2, rad_rwkv7, rad_rwkv6)"),
            std::string::npos);
  std::filesystem::create_directories(dir + "/untyped");
  io::write_file(dir + "/untyped/config.json", R"({"n_layer": 2})");
  EXPECT_NE(error_of([&] { detected(dir + "/untyped"); }).find("no field 'model_type'"), std::string::npos);
  std::filesystem::create_directories(dir + "/empty");
  EXPECT_NE(error_of([&] { detected(dir + "/empty"); }).find("without config.json"), std::string::npos);
  EXPECT_NE(error_of([&] { ModelSource::open(dir + "/absent"); }).find("no such file or folder"), std::string::npos);
  std::filesystem::create_directories(dir + "/array");
  io::write_file(dir + "/array/config.json", "[1, 2]");
  EXPECT_NE(error_of([&] { detected(dir + "/array"); }).find("not a JSON object"), std::string::npos);
}

TEST(Registry, TensorsOfNoArchitectureAreRefused) {
  const std::string path = test::temp_path("registry_other.safetensors");
  io::save_safetensors(path, {{"encoder.weight", Tensor::zeros(DType::F32, {2, 2})}});
  EXPECT_NE(error_of([&] { detected(path); }).find("of no architecture gander runs"), std::string::npos);
}

TEST(Registry, RandomModelsNameTheirArchitecture) {
  EXPECT_EQ(random_model("rwkv7:L1,D64,V128", {})->architecture(), "rwkv7");
  EXPECT_EQ(random_model("qwen2:L1,D64,H1,KV1,I128,V128", {})->architecture(), "qwen2");
  EXPECT_NE(error_of([] { random_model("llama:L1", {}); }).find("unknown architecture"), std::string::npos);
  EXPECT_NE(error_of([] { random_model("L12,D768", {}); }).find("expected ARCHITECTURE:SHAPE"), std::string::npos);
  EXPECT_EQ(architecture_named("qwen2").chat_format, "chatml");
  EXPECT_EQ(architecture_named("rwkv7").sampling, "rwkv");
}

}  // namespace
}  // namespace gander::models
