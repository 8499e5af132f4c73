// Encoding and decoding with a loaded BpeTokenizer (loading is in bpe_load.cpp).
#include "tokenize/bpe.h"
#include "tokenize/utf8.h"

#include <utf8proc.h>

#include "core/error.h"
#include "tokenize/nfc.h"

namespace gander {

namespace {
// Pieces up to this long are cached (as in Hugging Face tokenizers); longer ones are rare and cost
// O(n log n) anyway. The budget counts each entry's key, ids and a fixed overhead for its node.
constexpr size_t kMaxCachedPiece = 256;
constexpr size_t kCacheBudgetBytes = size_t(32) << 20;
constexpr size_t kCacheEntryOverhead = 96;
}  // namespace

BpeTokenizer::~BpeTokenizer() = default;

std::vector<int32_t> BpeTokenizer::end_of_text() const {
  const int32_t id = special_id("<|endoftext|>");
  return id >= 0 ? std::vector<int32_t>{id} : std::vector<int32_t>{};
}

int32_t BpeTokenizer::special_id(const std::string& content) const { return added_.find(content); }

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  const bool cacheable = piece.size() <= kMaxCachedPiece;
  if (cacheable)
    if (auto it = cache_.find(piece); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  std::vector<int32_t> sym;
  sym.reserve(piece.size());
  for (unsigned char c : piece) sym.push_back(byte_token_[c]);
  merges_.apply(sym);
  out.insert(out.end(), sym.begin(), sym.end());
  const size_t cost = piece.size() + sym.size() * sizeof(int32_t) + kCacheEntryOverhead;
  if (cacheable && cache_bytes_ + cost <= kCacheBudgetBytes) {
    cache_.emplace(piece, std::move(sym));
    cache_bytes_ += cost;
  }
}

void BpeTokenizer::encode_plain(std::string_view text, SplitRegex::Scratch& scratch, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string normalized;
  if (nfc_) text = to_nfc(text, normalized);
  regex_->split(text, scratch, [&](size_t begin, size_t end) { encode_piece(text.substr(begin, end - begin), out); });
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  // Reject invalid UTF-8 up front with a clear error (HF tokenizers take Unicode strings).
  const size_t bad = first_invalid_utf8(text);
  GANDER_CHECK(bad == std::string_view::npos, "tokenize: input is not valid UTF-8 at byte ", bad);
  const std::lock_guard lock(cache_mutex_);
  SplitRegex::Scratch scratch(*regex_);
  std::vector<int32_t> out;
  // Added tokens first, leftmost-longest; the text between them goes through the BPE model. The
  // trie walks at most ByteTrie::kMaxKeyBytes per position, and only where an added token may start.
  size_t start = 0, i = 0;
  while (i < text.size()) {
    ByteTrie::Match hit;
    if (added_.may_start_with(static_cast<uint8_t>(text[i]))) hit = added_.longest_prefix(text.substr(i));
    if (hit.length == 0) {
      ++i;
      continue;
    }
    encode_plain(text.substr(start, i - start), scratch, out);
    out.push_back(hit.id);
    i += hit.length;
    start = i;
  }
  encode_plain(text.substr(start), scratch, out);
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
