#include "cli/io_util.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gander::cli {

std::string read_stdin() { return {std::istreambuf_iterator<char>(std::cin), {}}; }

std::string read_all(const std::string& path) {
  if (path == "-") return read_stdin();
  std::ifstream f(path, std::ios::binary);
  GANDER_CHECK(f, path, ": cannot open");
  return {std::istreambuf_iterator<char>(f), {}};
}

std::vector<int32_t> read_id_array(const std::string& text, const std::string& source) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  GANDER_CHECK(!j.is_discarded(), source, ": not valid JSON");
  GANDER_CHECK(j.is_array(), source, ": expected a JSON array of token ids");
  std::vector<int32_t> ids;
  for (size_t i = 0; i < j.size(); ++i) {
    GANDER_CHECK(j[i].is_number_integer(), source, ": element ", i, " is not an integer");
    const int64_t v = j[i].get<int64_t>();
    GANDER_CHECK(v >= 0 && v <= INT32_MAX, source, ": element ", i, " (", v, ") is not a valid token id");
    ids.push_back(int32_t(v));
  }
  return ids;
}

}  // namespace gander::cli
