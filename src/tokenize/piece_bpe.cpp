#include "tokenize/piece_bpe.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/error.h"
#include "tokenize/bpe_merges.h"
#include "tokenize/byte_level.h"
#include "tokenize/split_regex.h"
#include "tokenize/utf8.h"

namespace gander {

const char* const kQwen2SplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string piece_bpe_tokenizer_json(std::span<const std::string> texts, const PieceBpeOptions& options) {
  // Count the pieces.
  const SplitRegex regex(kQwen2SplitPattern, "piece_bpe");
  SplitRegex::Scratch scratch(regex);
  std::unordered_map<std::string, int64_t> counts;
  for (const std::string& text : texts) {
    GANDER_CHECK(first_invalid_utf8(text) == std::string::npos, "piece_bpe: a sample text is not valid UTF-8");
    regex.split(text, scratch, [&](size_t b, size_t e) { ++counts[text.substr(b, e - b)]; });
  }
  std::vector<std::pair<std::string, int64_t>> pieces(counts.begin(), counts.end());
  std::sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });

  // Tokens as raw bytes: the 256 single bytes, then each merge's result.
  std::vector<std::string> tokens(256);
  for (int b = 0; b < 256; ++b) tokens[size_t(b)] = std::string(1, char(b));
  std::vector<std::pair<int32_t, int32_t>> rules;
  BpeMerges merges;
  for (const auto& [piece, count] : pieces) {
    if (count < options.min_count) break;
    for (;;) {
      std::vector<int32_t> symbols(piece.begin(), piece.end());
      for (int32_t& s : symbols) s = int32_t(uint8_t(s));
      merges.apply(symbols);
      if (symbols.size() == 1) break;
      // (No rule exists for this pair: BPE would have applied it.)
      const std::pair<int32_t, int32_t> pair{symbols[0], symbols[1]};
      const int32_t id = int32_t(tokens.size());
      tokens.push_back(tokens[size_t(pair.first)] + tokens[size_t(pair.second)]);
      merges.add(pair.first, pair.second, int32_t(rules.size()), id);
      rules.push_back(pair);
    }
  }

  using json = nlohmann::json;
  json vocab = json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[byte_level_encode(tokens[i])] = i;
  json merge_list = json::array();
  for (const auto& [l, r] : rules)
    merge_list.push_back(json::array({byte_level_encode(tokens[size_t(l)]), byte_level_encode(tokens[size_t(r)])}));
  json added = json::array();
  for (size_t i = 0; i < options.special_tokens.size(); ++i)
    added.push_back({{"id", tokens.size() + i}, {"content", options.special_tokens[i]}, {"single_word", false},
                     {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}});
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  const json doc = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"}, {"pattern", {{"Regex", kQwen2SplitPattern}}}, {"behavior", "Isolated"}, {"invert", false}},
                      byte_level})}}},
      {"post_processor", byte_level},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", merge_list}}}};
  return doc.dump(1) + "\n";
}

}  // namespace gander
