#include "tokenize/rwkv_world.h"

#include <algorithm>

#include "core/error.h"
#include "io/read_file.h"
#include "tokenize/byte_trie.h"
#include "tokenize/utf8.h"

namespace gander {

namespace {
void append_code_point(std::string& out, uint32_t cp, const std::string& where) {
  GANDER_CHECK(cp <= 0x10ffff, where, ": code point 0x", std::hex, cp, " is beyond U+10FFFF");
  GANDER_CHECK(cp < 0xd800 || cp > 0xdfff, where, ": code point U+", std::hex, cp, " is a surrogate, which UTF-8 cannot encode");
  append_utf8(out, cp);
}

// A decimal count of at most 18 digits: nothing else (no sign, space or trailing text, which
// std::stoll would accept or turn into std::out_of_range).
int64_t parse_count(std::string_view s, const std::string& where, const char* what) {
  const bool digits = !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  GANDER_CHECK(digits, where, ": ", what, " '", s.substr(0, 24), s.size() > 24 ? "..." : "", "' is not a decimal number");
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string parse_python_literal(std::string_view lit, const std::string& where) {
  bool is_bytes = false;
  if (!lit.empty() && lit[0] == 'b') {
    is_bytes = true;
    lit.remove_prefix(1);
  }
  GANDER_CHECK(lit.size() >= 2 && (lit[0] == '\'' || lit[0] == '"') && lit.back() == lit[0], where,
               ": not a quoted Python literal");
  lit = lit.substr(1, lit.size() - 2);
  std::string out;
  for (size_t i = 0; i < lit.size(); ++i) {
    const char c = lit[i];
    if (c != '\\') {
      // The file is UTF-8, so literal characters are already their UTF-8 bytes; Python allows
      // only ASCII characters in a bytes literal.
      GANDER_CHECK(!is_bytes || static_cast<unsigned char>(c) < 0x80, where, ": non-ASCII character in a bytes literal");
      out += c;
      continue;
    }
    GANDER_CHECK(i + 1 < lit.size(), where, ": literal ends with a backslash");
    const char e = lit[++i];
    auto hex = [&](int digits) {
      GANDER_CHECK(i + size_t(digits) < lit.size(), where, ": truncated escape");
      uint32_t v = 0;
      for (int d = 0; d < digits; ++d) {
        const int h = hex_value(lit[++i]);
        GANDER_CHECK(h >= 0, where, ": bad hex digit in escape");
        v = v * 16 + uint32_t(h);
      }
      return v;
    };
    switch (e) {
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        const uint32_t v = hex(2);
        if (is_bytes) out += char(v);
        else append_code_point(out, v, where);
        break;
      }
      case 'u':
        GANDER_CHECK(!is_bytes, where, ": \\u escape in a bytes literal");
        append_code_point(out, hex(4), where);
        break;
      case 'U':
        GANDER_CHECK(!is_bytes, where, ": \\U escape in a bytes literal");
        append_code_point(out, hex(8), where);
        break;
      default:
        if (e >= '0' && e <= '7') {  // octal, up to three digits
          uint32_t v = uint32_t(e - '0');
          for (int d = 0; d < 2 && i + 1 < lit.size() && lit[i + 1] >= '0' && lit[i + 1] <= '7'; ++d)
            v = v * 8 + uint32_t(lit[++i] - '0');
          if (is_bytes) out += char(v & 0xff);
          else append_code_point(out, v, where);
        } else {
          fail(where, ": unknown escape \\", e);
        }
    }
  }
  return out;
}

RwkvWorldTokenizer RwkvWorldTokenizer::from_file(const std::string& path) {
  // The real vocabulary is 1.1 MB. Parsing costs a few dozen bytes per byte of the file (the trie),
  // so the limit also bounds memory: 16 MiB cannot demand more than about half a gigabyte.
  return from_text(io::read_file(path, 16 * io::kMiB, "tokenizer vocabulary"), path);
}

RwkvWorldTokenizer RwkvWorldTokenizer::from_text(std::string_view text, const std::string& source) {
  RwkvWorldTokenizer tok;
  tok.tokens_.emplace_back();  // id 0
  std::vector<size_t> line_of{0};  // id -> its line, for messages about duplicates
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // the CRLF copy of the file
    if (line.empty()) continue;
    const std::string where = concat(source, ":", line_no);
    const size_t first = line.find(' '), last = line.rfind(' ');
    GANDER_CHECK(first != std::string_view::npos && last > first, where, ": expected '<id> <literal> <length>'");
    const int64_t id = parse_count(line.substr(0, first), where, "id");
    const int64_t len = parse_count(line.substr(last + 1), where, "length");
    GANDER_CHECK(id == int64_t(tok.tokens_.size()), where, ": id ", id, " out of sequence (expected ",
                 tok.tokens_.size(), ")");
    std::string bytes = parse_python_literal(line.substr(first + 1, last - first - 1), where);
    GANDER_CHECK(int64_t(bytes.size()) == len, where, ": literal has ", bytes.size(), " bytes but the line says ", len);
    GANDER_CHECK(!bytes.empty(), where, ": empty token");
    GANDER_CHECK(bytes.size() <= ByteTrie::kMaxKeyBytes, where, ": token of ", bytes.size(),
                 " bytes is longer than the limit of ", ByteTrie::kMaxKeyBytes);
    tok.tokens_.push_back(std::move(bytes));
    line_of.push_back(line_no);
  }
  GANDER_CHECK(tok.tokens_.size() > 256, source, ": vocabulary has only ", tok.tokens_.size() - 1, " entries");
  GANDER_CHECK(tok.tokens_.size() <= size_t(INT32_MAX), source, ": vocabulary has too many entries");
  std::vector<std::string_view> keys(tok.tokens_.begin() + 1, tok.tokens_.end());
  std::vector<int32_t> ids(keys.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i + 1);
  tok.trie_ = ByteTrie(keys, ids, [&](size_t a, size_t b) {
    fail(source, ":", line_of[b + 1], ": duplicate vocabulary entry: token ", b + 1, " has the same bytes as token ", a + 1,
         " (line ", line_of[a + 1], ")");
  });
  for (int b = 0; b < 256; ++b)
    GANDER_CHECK(tok.trie_.find(std::string(1, char(b))) >= 0, source, ": byte ", b,
                 " has no single-byte token, so some text could not be encoded");
  return tok;
}

std::vector<int32_t> RwkvWorldTokenizer::encode(std::string_view s) const {
  std::vector<int32_t> ids;
  ids.reserve(s.size() / 3 + 1);
  while (!s.empty()) {
    // Every byte is a token (checked when loading), so each step consumes at least one byte.
    const ByteTrie::Match m = trie_.longest_prefix(s);
    GANDER_CHECK(m.length > 0, "tokenize: byte ", int(static_cast<unsigned char>(s[0])), " has no token");
    ids.push_back(m.id);
    s.remove_prefix(m.length);
  }
  return ids;
}

const std::string& RwkvWorldTokenizer::token_bytes(int32_t id) const {
  GANDER_CHECK(id >= 0 && size_t(id) < tokens_.size(), "token id ", id, " is not in the RWKV World vocabulary (0..",
               tokens_.size() - 1, ")");
  return tokens_[size_t(id)];
}

std::string RwkvWorldTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) out += token_bytes(id);
  return out;
}

}  // namespace gander
