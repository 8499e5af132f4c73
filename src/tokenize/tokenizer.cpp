#include "tokenize/tokenizer.h"

#include "core/error.h"
#include "tokenize/rwkv_world.h"

namespace gander {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  if (path.ends_with(".json"))
    fail(path, ": Hugging Face tokenizer.json files are not supported yet (RWKV World vocabulary .txt only)");
  return std::make_unique<RwkvWorldTokenizer>(RwkvWorldTokenizer::from_file(path));
}

}  // namespace gander
