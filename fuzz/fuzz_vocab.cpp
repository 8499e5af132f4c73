// Vocabulary parsing, then encode/decode round trip of the input itself when the vocabulary loads.
#include <string_view>

#include "core/error.h"
#include "tokenize/rwkv_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto tok = gander::RwkvWorldTokenizer::from_text(text, "fuzz");
    auto ids = tok.encode(text);
    if (tok.decode(ids) != text) __builtin_trap();  // greedy encoding must round-trip exactly
  } catch (const gander::Error&) {
  }
  return 0;
}
