// A Hugging Face tokenizer.json loaded as BpeTokenizer, then used: any text gives a tokenizer whose
// encodings hold only ids of its vocabulary and decode again, or a gander::Error.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "tokenize/bpe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<gander::BpeTokenizer> tok;
  try {
    tok = gander::BpeTokenizer::from_json_text(json, "fuzz");
  } catch (const gander::Error&) {
    return 0;
  }
  // Each text on its own, so that a rejected one (invalid UTF-8) does not hide the others: mixed
  // scripts, digits, white-space runs and added-token look-alikes (always valid UTF-8, so a
  // loaded tokenizer must encode them), then the input's own first bytes (which reach whatever
  // special tokens it declares) and invalid UTF-8, which may be refused.
  const std::string valid = "Hello, world! 123 4567  \n\n\t x <|endoftext|> <|im_start|>user\n你好，世界 ünïcödé 🙂 ";
  for (const std::string& text : {valid, std::string(json.substr(0, 256)), std::string("ab\xff\xfe")}) {
    try {
      const std::vector<int32_t> ids = tok->encode(text);
      for (int32_t id : ids)
        if (id < 0 || id >= tok->vocab_size()) __builtin_trap();
      (void)tok->decode(ids);
    } catch (const gander::Error&) {
    }
  }
  return 0;
}
