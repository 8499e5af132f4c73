// Where the shared golden vectors live: $GANDER_TESTDATA, or ../shared/testdata beside the
// checkout. Tests that need them skip with a message naming the missing path.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace gander::test {

inline std::string testdata_dir() {
  if (const char* env = std::getenv("GANDER_TESTDATA")) return env;
  return std::string(GANDER_SOURCE_DIR) + "/../shared/testdata";
}

inline std::string testdata(const std::string& rel) { return testdata_dir() + "/" + rel; }

// The message of the gander::Error that fn throws, or "" if it throws none.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The largest absolute difference of two tensors' values (infinite if their sizes differ).
inline double max_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_f32_vector(), y = b.to_f32_vector();
  double d = x.size() == y.size() ? 0 : INFINITY;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) d = std::max(d, std::fabs(double(x[i]) - y[i]));
  return d;
}

inline std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("gander_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace gander::test

// Skips the current test when a shared test-data path is absent (a stranger's clone).
#define GANDER_REQUIRE_TESTDATA(rel)                                                              \
  do {                                                                                            \
    if (!std::filesystem::exists(::gander::test::testdata(rel)))                                  \
      GTEST_SKIP() << "test data not found: " << ::gander::test::testdata(rel)                   \
                   << " (set GANDER_TESTDATA to the shared testdata folder)";                    \
  } while (0)
