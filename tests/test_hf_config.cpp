#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "io/hf_config.h"
#include "testdata.h"

namespace gander::io {
namespace {

TEST(HfConfig, ReadsBothRopeStyles) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/config.json");
  const JsonConfig c = JsonConfig::load(test::testdata("qwen2/qwen2-tiny/config.json"));
  EXPECT_EQ(c.get_int("hidden_size"), 128);
  EXPECT_EQ(c.get_int("num_key_value_heads"), 1);
  // transformers 5 writes rope_parameters; released Qwen2.5 configs a top-level rope_theta.
  const double theta = c.has("rope_theta") ? c.get_double("rope_theta") : c.child("rope_parameters")->get_double("rope_theta");
  EXPECT_EQ(theta, 1000000.0);
  const std::string path = test::temp_path("config.json");
  std::ofstream(path) << R"({"hidden_size": 896, "rope_theta": 1000000.0, "tie_word_embeddings": true})";
  const JsonConfig old = JsonConfig::load(path);
  EXPECT_EQ(old.get_double("rope_theta"), 1000000.0);
  EXPECT_TRUE(old.get_bool("tie_word_embeddings"));
  EXPECT_EQ(old.get_int_or("num_key_value_heads", 14), 14);
}

TEST(HfConfig, ErrorsNameTheFileAndField) {
  const std::string path = test::temp_path("bad_config.json");
  std::ofstream(path) << R"({"hidden_size": "wide"})";
  const JsonConfig c = JsonConfig::load(path);
  try {
    c.get_int("hidden_size");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": field 'hidden_size' must be an integer"), std::string::npos) << e.what();
  }
  try {
    c.get_int("num_hidden_layers");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing field 'num_hidden_layers'"), std::string::npos) << e.what();
  }
  std::ofstream(path) << "{not json";
  EXPECT_THROW(JsonConfig::load(path), Error);
}

// A config is untrusted input like any checkpoint: nesting, repeated keys and non-files are refused.
TEST(HfConfig, HostileFilesAreClearErrors) {
  const std::string path = test::temp_path("hostile_config.json");
  std::ofstream(path) << "{\"a\": " << std::string(100000, '[') << std::string(100000, ']') << "}";
  EXPECT_NE(test::error_of([&] { JsonConfig::load(path); }).find("nests deeper than"), std::string::npos);
  std::ofstream(path) << R"({"hidden_size": 8, "hidden_size": 16})";
  EXPECT_NE(test::error_of([&] { JsonConfig::load(path); }).find("gives the key 'hidden_size' twice"), std::string::npos);
  EXPECT_NE(test::error_of([&] { JsonConfig::load("/dev/zero"); }).find("not a regular file"), std::string::npos);
  EXPECT_NE(test::error_of([&] { JsonConfig::load("/nonexistent/config.json"); }).find("/nonexistent/config.json"),
            std::string::npos);
}

}  // namespace
}  // namespace gander::io
