#include "tokenize/tokenizer.h"

#include <filesystem>
#include <system_error>

#include "core/error.h"
#include "tokenize/bpe.h"
#include "tokenize/rwkv_world.h"

namespace gander {

std::optional<std::string> token_text(const Tokenizer& t, int32_t id) {
  try {
    const int32_t one[1] = {id};
    return t.decode(one);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;  // the non-throwing overloads: a filesystem_error must not escape as such
  const fs::file_status st = fs::status(path, ec);
  GANDER_CHECK(fs::exists(st), path, ": no such tokenizer file or folder (expected a tokenizer.json, a model folder",
               " holding one, or an RWKV World vocabulary .txt)", ec && ec != std::errc::no_such_file_or_directory ? concat(": ", ec.message()) : "");
  if (fs::is_directory(st)) {
    const std::string json_path = (fs::path(path) / "tokenizer.json").string();
    GANDER_CHECK(fs::exists(fs::status(json_path, ec)), path, ": folder has no tokenizer.json");
    return BpeTokenizer::from_file(json_path);
  }
  if (path.ends_with(".json")) return BpeTokenizer::from_file(path);
  return std::make_unique<RwkvWorldTokenizer>(RwkvWorldTokenizer::from_file(path));
}

}  // namespace gander
