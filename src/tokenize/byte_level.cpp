#include "tokenize/byte_level.h"

#include "tokenize/utf8.h"

namespace gander {

std::vector<uint32_t> byte_to_codepoint() {
  std::vector<uint32_t> m(256);
  uint32_t extra = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    m[b] = printable ? b : extra++;
  }
  return m;
}

std::string byte_level_encode(std::string_view raw) {
  static const std::vector<uint32_t> map = byte_to_codepoint();
  std::string out;
  for (unsigned char b : raw) append_utf8(out, map[b]);
  return out;
}

}  // namespace gander
