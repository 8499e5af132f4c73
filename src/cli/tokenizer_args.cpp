#include "cli/tokenizer_args.h"

#include <filesystem>

#include "core/error.h"

namespace gander::cli {

std::string tokenizer_path(const std::string& flag, const std::string& model_path) {
  if (!flag.empty()) return flag;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!model_path.empty() && fs::is_directory(model_path, ec)) {
    // A Hugging Face folder's tokenizer.json, or the RWKV World vocabulary an fla RWKV-7 folder ships.
    for (const char* name : {"tokenizer.json", "rwkv_vocab_v20230424.txt"})
      if (fs::exists(fs::path(model_path) / name, ec)) return (fs::path(model_path) / name).string();
    fail(model_path, ": the folder has no tokenizer.json or rwkv_vocab_v20230424.txt; give --tokenizer");
  }
  fail("no tokenizer: give --tokenizer (rwkv_vocab_v20230424.txt for RWKV-7 World models, or a tokenizer.json)");
}

std::unique_ptr<Tokenizer> load_tokenizer_for(const std::string& flag, const ModelArgs& margs, const Runner& model) {
  const std::string path = tokenizer_path(flag, margs.path);
  auto tok = load_tokenizer(path);
  GANDER_CHECK(tok->vocab_size() <= model.vocab(), path, ": tokenizer has ", tok->vocab_size(),
               " tokens but the model's vocabulary holds only ", model.vocab());
  return tok;
}

}  // namespace gander::cli
