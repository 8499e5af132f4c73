#include "tokenize/tokenizer.h"

#include "core/error.h"
#include "tokenize/bpe.h"
#include "tokenize/rwkv_world.h"

#include <filesystem>

namespace gander {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    GANDER_CHECK(fs::exists(fs::path(path) / "tokenizer.json"), path, ": folder has no tokenizer.json");
    return BpeTokenizer::from_file((fs::path(path) / "tokenizer.json").string());
  }
  if (path.ends_with(".json")) return BpeTokenizer::from_file(path);
  return std::make_unique<RwkvWorldTokenizer>(RwkvWorldTokenizer::from_file(path));
}

}  // namespace gander
