// Loading a Hugging Face tokenizer.json into a BpeTokenizer. Every value is type-checked through
// JsonField before use, so a malformed file fails with "<file>: field '<path>' ..." and never with
// a json exception; every allocation is bounded by what the file holds (ids must stay near the
// number of tokens listed, so one id of 16,000,000 cannot demand half a gigabyte).
#include <utf8proc.h>

#include "core/error.h"
#include "io/read_file.h"
#include "tokenize/bpe.h"
#include "tokenize/byte_level.h"
#include "tokenize/json_field.h"
#include "tokenize/utf8.h"

namespace gander {

namespace {
using json = nlohmann::json;

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

// (Not "quoted": std::quoted would win overload resolution for std::string arguments through ADL.)
std::string quote_text(std::string_view s) { return describe_json(json(std::string(s))); }

// Ids may leave gaps, but not many: real files number their tokens densely (Qwen2: 151,665 tokens,
// ids 0..151,664). The id table is sized by the largest id, so this bounds it by the file's size.
int64_t id_limit(size_t n_tokens) { return std::min<int64_t>(2 * int64_t(n_tokens) + 1024, INT32_MAX); }
}  // namespace

class BpeTokenizer::Loader {
 public:
  Loader(BpeTokenizer& t, const JsonField& root) : t_(t), root_(root) {}

  void run() {
    root_.object();
    const JsonField model = root_["model"];
    check_model_options(model);
    read_normalizer(root_["normalizer"]);
    read_pre_tokenizer(root_["pre_tokenizer"]);
    const JsonField vocab = model["vocab"], added = root_["added_tokens"];
    const size_t n_added = added.is_null() ? 0 : added.array().size();
    limit_ = id_limit(vocab.object().size() + n_added);
    t_.id_to_token_.resize(size_t(limit_));
    read_vocab(vocab);
    if (!added.is_null()) read_added_tokens(added);
    t_.id_to_token_.resize(size_t(max_id_ + 1));
    t_.id_to_token_.shrink_to_fit();
    find_byte_tokens(vocab);
    read_merges(model["merges"]);
  }

 private:
  void check_model_options(const JsonField& model) {
    const JsonField type = model["type"];
    if (type.string() != "BPE") type.fail("must be \"BPE\", got ", quote_text(type.string()));
    if (model["byte_fallback"].boolean_or(false)) model["byte_fallback"].fail("= true is not supported");
    if (model["ignore_merges"].boolean_or(false)) model["ignore_merges"].fail("= true is not supported");
    const JsonField dropout = model["dropout"];
    if (!dropout.is_null() && !(dropout.number() == 0)) dropout.fail("= ", dropout.number(), ": BPE dropout is not supported");
    for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (!model[affix].string_or("").empty()) model[affix].fail("is not supported (only null or \"\")");
  }

  void read_normalizer(const JsonField& norm) {
    if (norm.is_null()) return;
    const std::string& type = norm["type"].string();
    if (type != "NFC") norm["type"].fail("= \"", type, "\" is not supported (NFC or a null normalizer)");
    t_.nfc_ = true;
  }

  // Qwen2's sequence: Split(regex, Isolated) then ByteLevel without its own regex.
  void read_pre_tokenizer(const JsonField& pre) {
    const JsonField list = pre["pretokenizers"];
    if (pre["type"].string() != "Sequence" || list.array().size() != 2)
      pre.fail("is not the Split + ByteLevel sequence of Qwen2 tokenizers");
    const JsonField split = list[0], byte_level = list[1];
    if (split["type"].string() != "Split" || split["behavior"].string() != "Isolated" || split["invert"].boolean_or(false))
      split.fail("must be an isolated, non-inverted regex Split");
    if (byte_level["type"].string() != "ByteLevel" || byte_level["use_regex"].boolean_or(true) ||
        byte_level["add_prefix_space"].boolean_or(true))
      byte_level.fail("must be ByteLevel without regex or prefix space");
    const JsonField pattern = split["pattern"];
    const JsonField regex = pattern["Regex"];
    t_.regex_ = std::make_unique<SplitRegex>(regex.string(), regex.where());
  }

  // An id from the file, checked against the bound that the file's size justifies.
  int32_t read_id(const JsonField& f) {
    const int64_t id = f.integer();
    if (id < 0 || id >= limit_)
      f.fail("= ", id, " is out of range: ids must lie in [0, ", limit_, "), twice the number of tokens in the file plus 1024");
    max_id_ = std::max(max_id_, int32_t(id));
    return int32_t(id);
  }

  void read_vocab(const JsonField& vocab) {
    const std::vector<uint32_t> b2c = byte_to_codepoint();
    std::unordered_map<uint32_t, uint8_t> c2b;
    for (uint32_t b = 0; b < 256; ++b) c2b[b2c[b]] = uint8_t(b);
    vocab_.reserve(vocab.object().size());
    vocab.for_each_member([&](const std::string& token, const JsonField& f) {
      const int32_t id = read_id(f);
      if (token.empty()) f.fail("is an empty token");
      std::string raw;
      if (!byte_level_decode(token, c2b, raw)) f.fail("is not byte-level encoded (a character outside GPT-2's byte map)");
      std::string& slot = t_.id_to_token_[size_t(id)];
      if (!slot.empty()) {
        std::string other;
        vocab.for_each_member([&](const std::string& k, const JsonField& g) {
          if (other.empty() && k != token && g.integer() == id) other = k;
        });
        f.fail("= ", id, " is also the id of ", quote_text(other), ": two tokens cannot share an id");
      }
      slot = std::move(raw);
      vocab_.emplace(token, id);
    });
  }

  // Added tokens are matched in the raw text, so their content is stored as is (not byte-level).
  void read_added_tokens(const JsonField& added) {
    std::vector<int32_t> ids;
    std::vector<size_t> entry;  // index in 'added_tokens' of each kept token
    std::unordered_map<int32_t, size_t> kept_with_id;
    for (size_t i = 0; i < added.array().size(); ++i) {
      const JsonField a = added[i], content_field = a["content"], id_field = a["id"];
      const std::string& content = content_field.string();
      if (content.empty()) content_field.fail("is empty: an empty added token would match at every position");
      if (content.size() > ByteTrie::kMaxKeyBytes)
        content_field.fail("is ", content.size(), " bytes long, more than the limit of ", ByteTrie::kMaxKeyBytes);
      const int32_t id = read_id(id_field);
      if (auto it = kept_with_id.find(id); it != kept_with_id.end()) {
        if (t_.added_content_[it->second] != content)
          id_field.fail("= ", id, " is also the id of added_tokens[", entry[it->second], "] (",
                        quote_text(t_.added_content_[it->second]), ")");
        continue;  // the same token listed twice
      }
      // Files list special tokens that are also in the vocabulary; they must agree on the text.
      std::string& slot = t_.id_to_token_[size_t(id)];
      if (!slot.empty() && slot != content)
        id_field.fail("= ", id, " is the vocabulary token ", quote_text(slot), ", not ", quote_text(content));
      slot = content;
      kept_with_id.emplace(id, t_.added_content_.size());
      t_.added_content_.push_back(content);
      ids.push_back(id);
      entry.push_back(i);
    }
    const std::vector<std::string_view> keys(t_.added_content_.begin(), t_.added_content_.end());
    t_.added_ = ByteTrie(keys, ids, [&](size_t first, size_t second) {
      const JsonField a = added[entry[second]];
      a["content"].fail("repeats added_tokens[", entry[first], "] with another id (", ids[second], " and ", ids[first], ")");
    });
  }

  void find_byte_tokens(const JsonField& vocab) {
    const std::vector<uint32_t> b2c = byte_to_codepoint();
    for (uint32_t b = 0; b < 256; ++b) {
      std::string s;
      append_utf8(s, b2c[b]);
      auto it = vocab_.find(s);
      if (it == vocab_.end()) vocab.fail("lacks the byte-level token ", quote_text(s), " for byte ", b);
      t_.byte_token_[b] = it->second;
    }
  }

  void read_merges(const JsonField& merges) {
    const size_t n = merges.array().size();
    if (n >= size_t(INT32_MAX)) merges.fail("has too many entries (", n, ")");
    std::string joined;
    for (size_t rank = 0; rank < n; ++rank) {
      const JsonField m = merges[rank];
      std::string_view left, right;
      if (m.is_string()) {  // the older "left right" form
        const std::string& s = m.string();
        const size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
          m.fail("must be \"left right\" (two tokens, one space), got ", quote_text(s));
        left = std::string_view(s).substr(0, space), right = std::string_view(s).substr(space + 1);
      } else {
        if (m.array().size() != 2) m.fail("must be a pair [left, right], got ", m.array().size(), " elements");
        left = m[0].string(), right = m[1].string();
      }
      joined.assign(left).append(right);
      auto l = vocab_.find(left), r = vocab_.find(right), merged = vocab_.find(std::string_view(joined));
      if (l == vocab_.end() || r == vocab_.end() || merged == vocab_.end())
        m.fail("(", quote_text(left), " + ", quote_text(right), ") uses a token missing from the vocabulary");
      t_.merges_.add(l->second, r->second, int32_t(rank), merged->second);
    }
  }

  BpeTokenizer& t_;
  const JsonField& root_;
  int64_t limit_ = 0;
  int32_t max_id_ = -1;
  std::unordered_map<std::string, int32_t, BpeTokenizer::StringHash, std::equal_to<>> vocab_;  // byte-level string -> id
};

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_file(const std::string& path) {
  // Real byte-level BPE files are 7-12 MB (Llama 3, DeepSeek, Qwen). The limit also bounds memory:
  // nlohmann's document costs up to ~20 bytes per byte of a file of tiny entries (a 40 MB list of
  // merges peaks at 860 MB), so 64 MiB cannot demand much more than a gigabyte.
  return from_json_text(io::read_file(path, kMaxFileBytes, "tokenizer.json"), path);
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_json_text(std::string_view json_text, const std::string& source) {
  // Without exceptions: a syntax error gives a discarded value (nlohmann's parser is iterative, so
  // deep nesting cannot overflow the stack here, and its destructor is iterative too).
  const json j = json::parse(json_text, nullptr, false);
  GANDER_CHECK(!j.is_discarded(), source, ": not valid JSON");
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  t->source_ = source;
  const JsonField root(j, t->source_);
  Loader(*t, root).run();
  return t;
}

}  // namespace gander
