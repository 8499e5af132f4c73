#include "cli/io_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/read_file.h"

namespace gander::cli {

std::string read_stdin_text(const char* what, uint64_t limit) {
  GANDER_CHECK(!isatty(STDIN_FILENO), "standard input is a terminal: expected the ", what);
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    GANDER_CHECK(n >= 0, "standard input: read failed: ", std::strerror(errno));
    if (n == 0) break;
    GANDER_CHECK(out.size() + size_t(n) <= limit, "standard input: more than ", limit, " bytes of ", what);
    out.append(buf, size_t(n));
  }
  return out;
}

std::string read_input_file(const std::string& path, const char* what, uint64_t limit) {
  if (path == "-") return read_stdin_text(what, limit);
  return io::read_file(path, limit, what);
}

std::vector<int32_t> read_id_array(const std::string& text, const std::string& source) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  GANDER_CHECK(!j.is_discarded(), source, ": not valid JSON");
  GANDER_CHECK(j.is_array(), source, ": expected a JSON array of token ids");
  std::vector<int32_t> ids;
  ids.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& v = j[i];
    GANDER_CHECK(v.is_number_integer(), source, ": element ", i, " is not an integer");
    const bool ok = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(INT32_MAX) : v.get<int64_t>() >= 0 &&
                                                                                           v.get<int64_t>() <= INT32_MAX;
    GANDER_CHECK(ok, source, ": element ", i, " (", v.dump(), ") is not a valid token id");
    ids.push_back(v.get<int32_t>());
  }
  return ids;
}

void StdoutWriter::write(const std::string& s) {
  if (s.empty()) return;
  GANDER_CHECK(std::fwrite(s.data(), 1, s.size(), stdout) == s.size(), "standard output: write failed: ",
               std::strerror(errno));
  last_ = s.back();
}

void StdoutWriter::flush() {
  GANDER_CHECK(std::fflush(stdout) == 0, "standard output: write failed: ", std::strerror(errno));
}

void check_stdout() {
  GANDER_CHECK(std::fflush(stdout) == 0 && !std::ferror(stdout), "standard output: write failed: ",
               std::strerror(errno ? errno : EIO));
}

}  // namespace gander::cli
