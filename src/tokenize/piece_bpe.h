// A byte-level BPE tokenizer (a tokenizer.json in Qwen2's layout: its split regex, ByteLevel
// bytes, NFC) made for text drawn from a closed grammar, such as the demo's stories: every piece
// the split regex cuts from the sample texts seen at least `min_count` times becomes one token.
//
// The merges are found piece by piece, most frequent first: while the rules so far leave a
// piece in more than one token, a rule merging its first two tokens is added at the lowest
// priority. BPE fires a rule only when no higher one applies, so a piece that is already one
// token stays one, and each new rule shortens the piece it is made for: the result is the prefix
// chains (" c", " ca", " cat") without the conflicts that break a naive chain (" ca" + "t"
// beaten by an earlier "at"). Text outside the samples still tokenizes, through the byte tokens.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gander {

// Qwen2's pre-tokenizer regex (its tokenizer.json's Split pattern).
extern const char* const kQwen2SplitPattern;

struct PieceBpeOptions {
  std::vector<std::string> special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  int64_t min_count = 1;
};

// The tokenizer.json text. Ids: the 256 byte tokens, then the merged tokens in the order their
// rules were made, then the special tokens.
std::string piece_bpe_tokenizer_json(std::span<const std::string> texts, const PieceBpeOptions& options = {});

}  // namespace gander
