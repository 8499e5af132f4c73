// UTF-8 encoding of one code point (shared by the tokenizers' file parsers), and validation of
// text before it is tokenized.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace gander {
// Appends cp (<= 0x10FFFF; the caller checks) as UTF-8.
inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}
// The offset of the first byte that does not begin a valid UTF-8 character (utf8proc's
// definition: no overlong forms, no surrogates), or npos when the whole text is valid.
size_t first_invalid_utf8(std::string_view text);
}  // namespace gander
