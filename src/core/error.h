// Errors: the library never exits or aborts on bad input; it throws gander::Error with a
// one-line message that names the file, field or tensor at fault. The CLI turns it into
// "error: <message>" and a non-zero exit.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace gander {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(concat(parts...));
}

#define GANDER_CHECK(cond, ...)                 \
  do {                                          \
    if (!(cond)) ::gander::fail(__VA_ARGS__);   \
  } while (0)

}  // namespace gander
