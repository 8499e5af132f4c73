// `gander demo` end to end at a small scale: the stories, the tokenizer, the teacher's run and
// the conversion, the JSON line it ends with, and folders every command opens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_process.h"

namespace gander {
namespace {
namespace fs = std::filesystem;

std::string last_line(const std::string& out) {
  const size_t end = out.find_last_not_of('\n');
  const size_t begin = out.rfind('\n', end);
  return out.substr(begin == std::string::npos ? 0 : begin + 1, end - (begin == std::string::npos ? 0 : begin + 1) + 1);
}

TEST(Demo, ConvertsItsTeacherAndEndsWithOneJsonLine) {
  const fs::path dir = fs::temp_directory_path() / ("gander_demo_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const test::CliResult r = test::run_cli("demo --scale 0.02 -t 2 --json -o " + dir.string() + " 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(last_line(r.out));
  const double teacher = j["teacher_perplexity"], student = j["student_perplexity"];
  EXPECT_GT(teacher, 1.0);
  EXPECT_LT(teacher, 1000.0);  // it learned something: the vocabulary holds ~1000 tokens
  EXPECT_GT(student, 1.0);
  EXPECT_NEAR(j["ratio"].get<double>(), student / teacher, 1e-9);
  EXPECT_GT(j["seconds"].get<double>(), 0);
  ASSERT_EQ(j["steps"].size(), 3u);
  EXPECT_EQ(j["steps"][0]["name"], "step1");
  EXPECT_EQ(j["samples"].size(), 2u);
  for (const char* f : {"teacher.yaml", "recipe.yaml", "tokenizer/tokenizer.json", "data/train.bin", "data/valid.bin",
                        "teacher/final/config.json", "conversion/step3/final/config.json", "conversion/report.json",
                        "conversion/curves.png"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_NE(r.out.find("teacher: "), std::string::npos);
  EXPECT_NE(r.out.find("student: "), std::string::npos);

  // What it leaves is what a user would have made by hand.
  const std::string student_dir = (dir / "conversion/step3/final").string();
  const test::CliResult g = test::run_cli("generate " + student_dir + " --prompt 'Once upon a time,' -n 8 --temperature 0");
  EXPECT_EQ(g.code, 0) << g.out;
  const test::CliResult c = test::run_cli("convert " + (dir / "recipe.yaml").string() + " --resume --json 2>/dev/null");
  EXPECT_EQ(c.code, 0) << c.out;
  EXPECT_NEAR(nlohmann::json::parse(last_line(c.out))["teacher_perplexity"].get<double>(), teacher, 1e-9 * teacher);

  // A folder the demo did not make is left alone.
  const fs::path other = dir.string() + "_other";
  fs::create_directories(other);
  std::ofstream(other / "keep.txt") << "mine\n";
  const test::CliResult refused = test::run_cli("demo --scale 0.02 -o " + other.string());
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.out.find("was not made by gander demo"), std::string::npos) << refused.out;
  EXPECT_TRUE(fs::exists(other / "keep.txt"));
  fs::remove_all(other);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gander
