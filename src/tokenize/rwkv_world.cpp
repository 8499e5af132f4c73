#include "tokenize/rwkv_world.h"

#include <algorithm>

#include "core/error.h"
#include "io/read_file.h"
#include "tokenize/utf8.h"

namespace gander {

namespace {
void append_code_point(std::string& out, uint32_t cp, const std::string& where) {
  GANDER_CHECK(cp <= 0x10ffff, where, ": code point out of range");
  append_utf8(out, cp);
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
      out += c;  // the file is UTF-8, so literal characters are already their UTF-8 bytes
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
  // The real vocabulary is ~1 MB; the limit only stops runaway inputs.
  return from_text(io::read_file(path, 64 * io::kMiB, "tokenizer vocabulary"), path);
}

RwkvWorldTokenizer RwkvWorldTokenizer::from_text(std::string_view text, const std::string& source) {
  RwkvWorldTokenizer tok;
  tok.nodes_.emplace_back();  // root
  tok.build_children_.emplace_back();
  tok.tokens_.emplace_back();  // id 0
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
    int64_t id = 0, len = 0;
    try {
      id = std::stoll(std::string(line.substr(0, first)));
      len = std::stoll(std::string(line.substr(last + 1)));
    } catch (const std::exception&) {
      fail(where, ": id or length is not a number");
    }
    std::string bytes = parse_python_literal(line.substr(first + 1, last - first - 1), where);
    GANDER_CHECK(int64_t(bytes.size()) == len, where, ": literal has ", bytes.size(), " bytes but the line says ", len);
    GANDER_CHECK(!bytes.empty(), where, ": empty token");
    GANDER_CHECK(id == int64_t(tok.tokens_.size()), where, ": id ", id, " out of sequence (expected ",
                 tok.tokens_.size(), ")");
    tok.insert(bytes, int32_t(id));
    tok.tokens_.push_back(std::move(bytes));
  }
  GANDER_CHECK(tok.tokens_.size() > 256, source, ": vocabulary has only ", tok.tokens_.size() - 1, " entries");
  for (int b = 0; b < 256; ++b)
    GANDER_CHECK(tok.child(0, uint8_t(b)) && tok.nodes_[tok.child(0, uint8_t(b))].token, source,
                 ": byte ", b, " has no single-byte token, so some text could not be encoded");
  tok.finish();
  return tok;
}

void RwkvWorldTokenizer::insert(const std::string& bytes, int32_t id) {
  uint32_t node = 0;
  for (char ch : bytes) {
    const uint8_t b = uint8_t(ch);
    auto& kids = build_children_[node];
    auto it = std::find_if(kids.begin(), kids.end(), [b](auto& e) { return e.first == b; });
    if (it == kids.end()) {
      const uint32_t fresh = uint32_t(nodes_.size());
      nodes_.emplace_back();
      build_children_.emplace_back();
      build_children_[node].emplace_back(b, fresh);  // kids may be dangling after emplace_back above
      node = fresh;
    } else {
      node = it->second;
    }
  }
  GANDER_CHECK(nodes_[node].token == 0, "duplicate vocabulary entry for token ", id);
  nodes_[node].token = id;
}

uint32_t RwkvWorldTokenizer::child(uint32_t node, uint8_t byte) const {
  if (!build_children_.empty()) {
    for (auto& [b, c] : build_children_[node])
      if (b == byte) return c;
    return 0;
  }
  const Node& n = nodes_[node];
  for (uint32_t e = n.edge_begin; e < n.edge_end; ++e)
    if (edges_[e].byte == byte) return edges_[e].child;
  return 0;
}

void RwkvWorldTokenizer::finish() {
  for (uint32_t n = 0; n < nodes_.size(); ++n) {
    auto& kids = build_children_[n];
    std::sort(kids.begin(), kids.end());
    nodes_[n].edge_begin = uint32_t(edges_.size());
    for (auto& [b, c] : kids) edges_.push_back({b, c});
    nodes_[n].edge_end = uint32_t(edges_.size());
  }
  level2_.assign(65536, 0);
  for (auto& [b0, n1] : build_children_[0])
    for (auto& [b1, n2] : build_children_[n1]) level2_[size_t(b0) << 8 | b1] = n2;
  build_children_.clear();
  build_children_.shrink_to_fit();
}

std::vector<int32_t> RwkvWorldTokenizer::encode(std::string_view s) const {
  std::vector<int32_t> ids;
  ids.reserve(s.size() / 3 + 1);
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Every byte is a token (ids 1..256), so the first level always matches.
    uint32_t node = edges_[nodes_[0].edge_begin + p[i]].child;
    int32_t best = nodes_[node].token;
    size_t best_len = 1;
    if (i + 1 < n) {
      if (uint32_t n2 = level2_[size_t(p[i]) << 8 | p[i + 1]]) {
        node = n2;
        if (nodes_[node].token) best = nodes_[node].token, best_len = 2;
        for (size_t j = i + 2; j < n; ++j) {
          const Node& nd = nodes_[node];
          uint32_t next = 0;
          for (uint32_t e = nd.edge_begin; e < nd.edge_end; ++e)
            if (edges_[e].byte == p[j]) {
              next = edges_[e].child;
              break;
            }
          if (!next) break;
          node = next;
          if (nodes_[node].token) best = nodes_[node].token, best_len = j - i + 1;
        }
      }
    }
    ids.push_back(best);
    i += best_len;
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
