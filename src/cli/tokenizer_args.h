// Resolves the tokenizer of a command: --tokenizer, else the model folder's tokenizer.json; and
// checks that it fits the model's vocabulary.
#pragma once
#include <memory>
#include <string>

#include "cli/model_args.h"
#include "tokenize/tokenizer.h"

namespace gander::cli {
std::unique_ptr<Tokenizer> load_tokenizer_for(const std::string& flag, const ModelArgs& margs, const Runner& model);
}
