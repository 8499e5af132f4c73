#include "tokenize/nfc.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace gander {

namespace {
bool may_change(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xcc; });
}

void append_nfc(std::string_view s, std::string& out) {
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), utf8proc_ssize_t(s.size()),
                                          &mapped, utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  GANDER_CHECK(n >= 0, "tokenize: input is not valid UTF-8 (", utf8proc_errmsg(n), ")");
  out.append(reinterpret_cast<const char*>(mapped), size_t(n));
  std::free(mapped);
}
}  // namespace

std::string_view to_nfc(std::string_view text, std::string& storage) {
  if (!may_change(text)) return text;
  storage.clear();
  storage.reserve(text.size());
  const size_t n = text.size();
  size_t done = 0;  // text[0, done) is in storage
  size_t i = 0;
  while (i < n) {
    // The next stretch of non-ASCII bytes [begin, end), with the ASCII character before it.
    size_t begin = i;
    while (begin < n && static_cast<unsigned char>(text[begin]) < 0x80) ++begin;
    if (begin == n) break;
    size_t end = begin;
    while (end < n && static_cast<unsigned char>(text[end]) >= 0x80) ++end;
    const size_t start = std::max(done, begin > 0 ? begin - 1 : 0);
    const std::string_view stretch = text.substr(start, end - start);
    if (may_change(stretch)) {
      storage.append(text.substr(done, start - done));
      append_nfc(stretch, storage);
      done = end;
    }
    i = end;
  }
  storage.append(text.substr(done));
  return storage;
}

}  // namespace gander
