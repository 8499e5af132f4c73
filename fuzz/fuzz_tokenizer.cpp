// A Hugging Face tokenizer.json loaded as BpeTokenizer, then used: any text gives a tokenizer whose
// encodings hold only ids of its vocabulary and decode again, or a gander::Error.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "tokenize/bpe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  try {
    const auto tok = gander::BpeTokenizer::from_json_text(json, "fuzz");
    // Mixed scripts, digits, white-space runs, an added-token look-alike, invalid UTF-8, and the
    // input's own first bytes (which reach whatever special tokens it declares).
    std::string text = "Hello, world! 123 4567  \n\n\t x <|endoftext|> <|im_start|>user\n你好，世界 ünïcödé 🙂 \xff\xfe";
    text += json.substr(0, 256);
    const std::vector<int32_t> ids = tok->encode(text);
    for (int32_t id : ids)
      if (id < 0 || id >= tok->vocab_size()) __builtin_trap();
    (void)tok->decode(ids);
  } catch (const gander::Error&) {
  }
  return 0;
}
