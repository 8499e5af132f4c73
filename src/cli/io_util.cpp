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

namespace {
// Reads a JSON array of ids straight into the vector (a DOM would take ~16x the ids' text: a
// 1 GiB id file, 16 GiB).
class IdArrayReader final : public nlohmann::json::json_sax_t {
 public:
  IdArrayReader(const std::string& source, std::vector<int32_t>& ids) : source_(source), ids_(ids) {}
  bool number_integer(number_integer_t v) override { return id(v >= 0 && v <= INT32_MAX, std::to_string(v), v); }
  bool number_unsigned(number_unsigned_t v) override { return id(v <= uint64_t(INT32_MAX), std::to_string(v), int64_t(v)); }
  bool start_array(std::size_t) override {
    GANDER_CHECK(depth_++ == 0, source_, ": element ", ids_.size(), " is not an integer");
    return true;
  }
  bool end_array() override { return --depth_, true; }
  bool null() override { return not_an_id(); }
  bool boolean(bool) override { return not_an_id(); }
  bool number_float(number_float_t, const string_t&) override { return not_an_id(); }
  bool string(string_t&) override { return not_an_id(); }
  bool binary(binary_t&) override { return not_an_id(); }
  bool start_object(std::size_t) override { return not_an_id(); }
  bool key(string_t&) override { return not_an_id(); }
  bool end_object() override { return not_an_id(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    fail(source_, ": not valid JSON (error at byte ", position, ")");
  }

 private:
  bool id(bool ok, const std::string& text, int64_t v) {
    GANDER_CHECK(depth_ == 1, source_, ": expected a JSON array of token ids");
    GANDER_CHECK(ok, source_, ": element ", ids_.size(), " (", text, ") is not a valid token id");
    ids_.push_back(int32_t(v));
    return true;
  }
  bool not_an_id() {
    GANDER_CHECK(depth_ == 1, source_, ": expected a JSON array of token ids");
    fail(source_, ": element ", ids_.size(), " is not an integer");
  }
  const std::string& source_;
  std::vector<int32_t>& ids_;
  int depth_ = 0;
};
}  // namespace

std::vector<int32_t> read_id_array(const std::string& text, const std::string& source) {
  std::vector<int32_t> ids;
  IdArrayReader reader(source, ids);
  nlohmann::json::sax_parse(text.begin(), text.end(), &reader, nlohmann::json::input_format_t::json, /*strict=*/true);
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
