#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenize/bpe.h"

#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/read_file.h"
#include "tokenize/utf8.h"

namespace gander {

namespace {
using json = nlohmann::json;

// GPT-2's reversible map from bytes to printable code points.
std::vector<uint32_t> byte_to_codepoint() {
  std::vector<uint32_t> m(256);
  uint32_t extra = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    m[b] = printable ? b : extra++;
  }
  return m;
}

// Decodes a byte-level token string back to raw bytes; returns false if a character is not in the map.
bool byte_level_decode(const std::string& s, const std::unordered_map<uint32_t, uint8_t>& inverse, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i), utf8proc_ssize_t(s.size() - i), &cp);
    if (n <= 0) return false;
    auto it = inverse.find(uint32_t(cp));
    if (it == inverse.end()) return false;
    out += char(it->second);
    i += size_t(n);
  }
  return true;
}

uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
}  // namespace

struct BpeTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() {
    if (code) pcre2_code_free(code);
  }
};

BpeTokenizer::~BpeTokenizer() = default;

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_file(const std::string& path) {
  // The largest real tokenizer.json files are ~10-20 MB; the limit only stops runaway inputs.
  return from_json_text(io::read_file(path, 256 * io::kMiB, "tokenizer.json"), path);
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_json_text(std::string_view json_text, const std::string& path) {
  const json j = json::parse(json_text, nullptr, false);
  GANDER_CHECK(!j.is_discarded() && j.is_object(), path, ": not valid JSON");
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  t->source_ = path;
  const json& model = j.value("model", json());
  GANDER_CHECK(model.is_object() && model.value("type", "") == "BPE", path, ": field 'model.type' must be \"BPE\", got ",
               model.is_object() ? model.value("type", json("missing")).dump() : "nothing");
  GANDER_CHECK(!model.value("byte_fallback", false), path, ": field 'model.byte_fallback' = true is not supported");
  // Normaliser: none or NFC.
  const json& norm = j.value("normalizer", json());
  if (!norm.is_null()) {
    GANDER_CHECK(norm.is_object() && norm.value("type", "") == "NFC", path, ": field 'normalizer' of type ",
                 norm.is_object() ? norm.value("type", json("?")).dump() : norm.dump(), " is not supported (NFC or null)");
    t->nfc_ = true;
  }
  // Pre-tokenizer: Split(regex, Isolated) followed by ByteLevel without its own regex (Qwen2).
  const json& pre = j.value("pre_tokenizer", json());
  GANDER_CHECK(pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") &&
                   pre["pretokenizers"].size() == 2,
               path, ": field 'pre_tokenizer' is not the Split + ByteLevel sequence of Qwen2 tokenizers");
  const json& split = pre["pretokenizers"][0];
  const json& bl = pre["pretokenizers"][1];
  GANDER_CHECK(split.value("type", "") == "Split" && split.contains("pattern") && split["pattern"].contains("Regex") &&
                   split.value("behavior", "") == "Isolated" && !split.value("invert", false),
               path, ": field 'pre_tokenizer.pretokenizers[0]' must be an isolated, non-inverted regex Split");
  GANDER_CHECK(bl.value("type", "") == "ByteLevel" && !bl.value("use_regex", true) && !bl.value("add_prefix_space", true),
               path, ": field 'pre_tokenizer.pretokenizers[1]' must be ByteLevel without regex or prefix space");
  const std::string pattern = split["pattern"]["Regex"].get<std::string>();
  int err = 0;
  PCRE2_SIZE off = 0;
  t->regex_ = std::make_unique<Regex>();
  t->regex_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                  &err, &off, nullptr);
  GANDER_CHECK(t->regex_->code, path, ": pre-tokenizer regex does not compile (offset ", off, ")");
  pcre2_jit_compile(t->regex_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable

  // Vocabulary and merges.
  const std::vector<uint32_t> b2c = byte_to_codepoint();
  std::unordered_map<uint32_t, uint8_t> c2b;
  for (uint32_t b = 0; b < 256; ++b) c2b[b2c[b]] = uint8_t(b);
  GANDER_CHECK(model.contains("vocab") && model["vocab"].is_object(), path, ": field 'model.vocab' is missing");
  int32_t max_id = -1;
  for (auto& [tok, id] : model["vocab"].items()) {
    GANDER_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < (int64_t(1) << 24), path,
                 ": vocabulary entry '", tok, "' has a bad id");
    t->vocab_[tok] = id.get<int32_t>();
    max_id = std::max(max_id, id.get<int32_t>());
  }
  const json& added = j.value("added_tokens", json::array());
  for (const json& a : added) {
    GANDER_CHECK(a.contains("id") && a.contains("content"), path, ": malformed entry in 'added_tokens'");
    t->added_.push_back({a["content"].get<std::string>(), a["id"].get<int32_t>()});
    max_id = std::max(max_id, a["id"].get<int32_t>());
  }
  std::sort(t->added_.begin(), t->added_.end(), [](const Added& x, const Added& y) { return x.content.size() > y.content.size(); });
  for (const Added& a : t->added_)
    if (!a.content.empty()) t->added_first_byte_[static_cast<unsigned char>(a.content[0])] = true;
  t->id_to_token_.assign(size_t(max_id + 1), std::string());
  for (auto& [tok, id] : t->vocab_) {
    std::string raw;
    GANDER_CHECK(byte_level_decode(tok, c2b, raw), path, ": vocabulary entry '", tok, "' is not byte-level encoded");
    t->id_to_token_[size_t(id)] = raw;
  }
  for (const Added& a : t->added_) t->id_to_token_[size_t(a.id)] = a.content;
  for (uint32_t b = 0; b < 256; ++b) {
    std::string s;
    append_utf8(s, b2c[b]);
    auto it = t->vocab_.find(s);
    GANDER_CHECK(it != t->vocab_.end(), path, ": the vocabulary lacks the byte-level token for byte ", b);
    t->byte_token_[b] = it->second;
  }
  GANDER_CHECK(model.contains("merges") && model["merges"].is_array(), path, ": field 'model.merges' is missing");
  int32_t rank = 0;
  for (const json& m : model["merges"]) {
    std::string a, b;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ');
      GANDER_CHECK(sp != std::string::npos, path, ": merge ", rank, " ('", s, "') is not 'left right'");
      a = s.substr(0, sp), b = s.substr(sp + 1);
    } else {
      GANDER_CHECK(m.is_array() && m.size() == 2, path, ": merge ", rank, " is not a pair");
      a = m[0].get<std::string>(), b = m[1].get<std::string>();
    }
    auto ia = t->vocab_.find(a), ib = t->vocab_.find(b), im = t->vocab_.find(a + b);
    GANDER_CHECK(ia != t->vocab_.end() && ib != t->vocab_.end() && im != t->vocab_.end(), path, ": merge ", rank, " ('",
                 a, "' + '", b, "') uses a token missing from the vocabulary");
    t->merges_.emplace(pair_key(ia->second, ib->second), std::pair{rank, im->second});
    ++rank;
  }
  return t;
}

std::vector<int32_t> BpeTokenizer::end_of_text() const {
  const int32_t id = special_id("<|endoftext|>");
  return id >= 0 ? std::vector<int32_t>{id} : std::vector<int32_t>{};
}

int32_t BpeTokenizer::special_id(const std::string& content) const {
  for (const Added& a : added_)
    if (a.content == content) return a.id;
  return -1;
}

void BpeTokenizer::encode_word(const std::string& word, std::vector<int32_t>& out) const {
  if (auto it = cache_.find(word); it != cache_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  std::vector<int32_t> sym;
  sym.reserve(word.size());
  for (unsigned char c : word) sym.push_back(byte_token_[c]);
  // Repeatedly merge the adjacent pair of lowest rank (words are short: a linear scan is fastest).
  while (sym.size() > 1) {
    int32_t best_rank = INT32_MAX, best_id = -1;
    size_t at = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      auto it = merges_.find(pair_key(sym[i], sym[i + 1]));
      if (it != merges_.end() && it->second.first < best_rank) {
        best_rank = it->second.first;
        best_id = it->second.second;
        at = i;
      }
    }
    if (best_id < 0) break;
    sym[at] = best_id;
    sym.erase(sym.begin() + long(at) + 1);
  }
  if (cache_.size() < 200000) cache_.emplace(word, sym);
  out.insert(out.end(), sym.begin(), sym.end());
}

void BpeTokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string norm(text);
  if (nfc_) {
    utf8proc_uint8_t* mapped = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                            utf8proc_ssize_t(text.size()), &mapped, utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    GANDER_CHECK(n >= 0, "tokenize: input is not valid UTF-8 (", utf8proc_errmsg(n), ")");
    norm.assign(reinterpret_cast<char*>(mapped), size_t(n));
    std::free(mapped);
  }
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(norm.data());
  size_t pos = 0;
  while (pos < norm.size()) {
    // The input was validated once; PCRE2 would otherwise re-check the whole subject on every call.
    const int rc = pcre2_match(regex_->code, subject, norm.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) {
      pcre2_match_data_free(md);
      GANDER_CHECK(rc == PCRE2_ERROR_NOMATCH, "tokenize: regex match failed (input not valid UTF-8?)");
      encode_word(norm.substr(pos), out);  // an unmatched tail is its own piece ("Isolated")
      return;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[0] > pos) encode_word(norm.substr(pos, ov[0] - pos), out);
    if (ov[1] == ov[0]) {  // empty match: step one character
      size_t step = 1;
      while (pos + step < norm.size() && (static_cast<unsigned char>(norm[pos + step]) & 0xc0) == 0x80) ++step;
      pos = std::max<size_t>(ov[0], pos) + step;
      continue;
    }
    encode_word(norm.substr(ov[0], ov[1] - ov[0]), out);
    pos = ov[1];
  }
  pcre2_match_data_free(md);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  {
    // Reject invalid UTF-8 up front with a clear error (HF tokenizers take Unicode strings).
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    for (size_t i = 0; i < text.size();) {
      utf8proc_int32_t cp;
      const utf8proc_ssize_t n = utf8proc_iterate(p + i, utf8proc_ssize_t(text.size() - i), &cp);
      GANDER_CHECK(n > 0, "tokenize: input is not valid UTF-8 at byte ", i);
      i += size_t(n);
    }
  }
  std::vector<int32_t> out;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const Added* hit = nullptr;
    if (added_first_byte_[static_cast<unsigned char>(text[i])])
      for (const Added& a : added_)
      if (text.compare(i, a.content.size(), a.content) == 0) {
        hit = &a;
        break;
      }
    if (!hit) {
      ++i;
      continue;
    }
    encode_plain(text.substr(start, i - start), out);
    out.push_back(hit->id);
    i += hit->content.size();
    start = i;
  }
  encode_plain(text.substr(start), out);
  return out;
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    GANDER_CHECK(id >= 0 && size_t(id) < id_to_token_.size() && (!id_to_token_[size_t(id)].empty()), "token id ", id,
                 " is not in the vocabulary of ", source_);
    out += id_to_token_[size_t(id)];
  }
  return out;
}

}  // namespace gander
