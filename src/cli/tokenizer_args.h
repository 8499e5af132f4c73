// Resolves the tokenizer of a command: --tokenizer, else the model folder's tokenizer.json; and
// checks that it fits the model's vocabulary.
#pragma once
#include <memory>
#include <string>

#include "cli/model_args.h"
#include "tokenize/tokenizer.h"

namespace gander::cli {
// The tokenizer file for `flag` (--tokenizer) or, when it is empty, the one beside `model_path`
// (a Hugging Face folder's tokenizer.json). Throws naming what to give when there is none.
std::string tokenizer_path(const std::string& flag, const std::string& model_path);
std::unique_ptr<Tokenizer> load_tokenizer_for(const std::string& flag, const ModelArgs& margs, const Runner& model);
}  // namespace gander::cli
