// The interface every tokenizer implements: bytes in, ids out, and back.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gander {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Concatenated bytes of the tokens (may be invalid UTF-8 mid-stream); throws on an unknown id.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  // One more than the largest id (the smallest model vocabulary that can hold every token).
  virtual int64_t vocab_size() const = 0;
  virtual std::string name() const = 0;
  // Ids that end a document (RWKV World: 0; BPE: <|endoftext|>), where generation stops.
  virtual std::vector<int32_t> end_of_text() const = 0;
  // The id of a special token such as "<|im_end|>", or -1 if the tokenizer has none.
  virtual int32_t special_id(const std::string& content) const { return -1; }
};

// The bytes of one id, or nullopt for an id the vocabulary leaves unused (decode throws).
std::optional<std::string> token_text(const Tokenizer& t, int32_t id);

// Picks the tokenizer implementation from the file (the RWKV World vocabulary for now).
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace gander
