#include "cli/tokenizer_args.h"

#include "core/error.h"

namespace gander::cli {
std::unique_ptr<Tokenizer> load_tokenizer_for(const std::string& flag, const ModelArgs& margs, const Runner& model) {
  const std::string path = flag.empty() ? margs.default_tokenizer() : flag;
  GANDER_CHECK(!path.empty(), "no tokenizer: give --tokenizer (rwkv_vocab_v20230424.txt or a tokenizer.json)");
  auto tok = load_tokenizer(path);
  GANDER_CHECK(tok->vocab_size() <= model.vocab(), path, ": tokenizer has ", tok->vocab_size(),
               " tokens but the model's vocabulary holds only ", model.vocab());
  return tok;
}
}  // namespace gander::cli
