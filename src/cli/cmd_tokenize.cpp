// gander tokenize / detokenize.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "tokenize/tokenizer.h"

namespace gander::cli {

void register_tokenize(CLI::App& app) {
  auto* tok = app.add_subcommand("tokenize", "Encode text (or standard input) to token ids, printed as a JSON array");
  auto tokenizer = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  tok->add_option("--tokenizer", *tokenizer, "Vocabulary file (rwkv_vocab_v20230424.txt)")->required();
  auto* text_opt = tok->add_option("--text", *text, "Text to encode (default: read standard input)");
  tok->callback([=] {
    const auto t = load_tokenizer(*tokenizer);
    const std::string input = text_opt->count() ? *text : read_stdin();
    std::printf("%s\n", nlohmann::json(t->encode(input)).dump().c_str());
  });

  auto* detok = app.add_subcommand("detokenize", "Decode a JSON array of ids (standard input) to bytes on standard output");
  auto tokenizer2 = std::make_shared<std::string>();
  auto ids_path = std::make_shared<std::string>("-");
  detok->add_option("--tokenizer", *tokenizer2, "Vocabulary file")->required();
  detok->add_option("--ids", *ids_path, "JSON file of ids (default: standard input)");
  detok->callback([=] {
    const auto t = load_tokenizer(*tokenizer2);
    const std::string source = *ids_path == "-" ? "standard input" : *ids_path;
    const std::string bytes = t->decode(read_id_array(read_all(*ids_path), source));
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  });
}

}  // namespace gander::cli
