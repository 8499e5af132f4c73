// gander tokenize / detokenize.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/tokenizer_args.h"
#include "tokenize/tokenizer.h"

namespace gander::cli {

void register_tokenize(CLI::App& app) {
  auto* tok = app.add_subcommand("tokenize", "Encode text (or standard input) to token ids, printed as a JSON array");
  auto model = std::make_shared<std::string>();
  auto tokenizer = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  tok->add_option("model", *model, "A model folder whose tokenizer.json to use (or give --tokenizer)");
  tok->add_option("--tokenizer", *tokenizer, "Tokenizer file (rwkv_vocab_v20230424.txt or tokenizer.json)");
  auto* text_opt = tok->add_option("--text", *text, "Text to encode (default: read standard input)");
  tok->add_option("-f,--file", *file, "Encode this file")->excludes(text_opt);
  tok->callback([=] {
    const auto t = load_tokenizer(tokenizer_path(*tokenizer, *model));
    const std::string input = text_opt->count() ? *text
                              : file->empty()   ? read_stdin_text("text to encode (give --text, -f FILE or pipe it in)")
                                                : read_input_file(*file, "text file");
    StdoutWriter out;
    out.write(nlohmann::json(t->encode(input)).dump() + "\n");
  });

  auto* detok = app.add_subcommand("detokenize", "Decode a JSON array of ids (standard input) to bytes on standard output");
  auto model2 = std::make_shared<std::string>();
  auto tokenizer2 = std::make_shared<std::string>();
  auto ids_path = std::make_shared<std::string>("-");
  detok->add_option("model", *model2, "A model folder whose tokenizer.json to use (or give --tokenizer)");
  detok->add_option("--tokenizer", *tokenizer2, "Tokenizer file");
  detok->add_option("--ids", *ids_path, "JSON file of ids (default: standard input)");
  detok->callback([=] {
    const auto t = load_tokenizer(tokenizer_path(*tokenizer2, *model2));
    const std::string source = *ids_path == "-" ? "standard input" : *ids_path;
    StdoutWriter out;
    out.write(t->decode(read_id_array(read_input_file(*ids_path, "token ids (a JSON array)"), source)));
  });
}

}  // namespace gander::cli
