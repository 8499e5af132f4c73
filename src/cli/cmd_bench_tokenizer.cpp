// gander bench-tokenizer: encoding throughput on one core.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "core/error.h"
#include "core/timer.h"
#include "io/atomic_file.h"
#include "tokenize/tokenizer.h"

namespace gander::cli {

void register_bench_tokenizer(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-tokenizer", "Measure tokenizer encoding speed (MB/s, one thread)");
  auto tokenizer = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto json_out = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("--tokenizer", *tokenizer, "Vocabulary / tokenizer file")->required();
  cmd->add_option("--text", *files, "Text files to encode (concatenated)")->required();
  cmd->add_flag("--json", *as_json, "Print the result as JSON");
  cmd->add_option("--json-out", *json_out, "Also write the JSON to this file");
  cmd->callback([=] {
    if (!json_out->empty()) io::check_writable(*json_out, "--json-out");
    const auto tok = load_tokenizer(*tokenizer);
    std::string text;
    for (auto& f : *files) text += read_input_file(f, "text file");
    GANDER_CHECK(!text.empty(), "bench-tokenizer: the text files are empty");
    double best = 1e30;
    size_t n_tokens = 0;
    for (int r = 0; r < 5; ++r) {
      const double t0 = now_seconds();
      n_tokens = tok->encode(text).size();
      best = std::min(best, now_seconds() - t0);
    }
    const double mbs = double(text.size()) / best / 1e6;
    const nlohmann::json j = {{"tokenizer", tok->name()}, {"bytes", text.size()}, {"tokens", n_tokens},
                              {"seconds", best},          {"mb_per_s", mbs},      {"threads", 1}};
    StdoutWriter out;
    if (*as_json)
      out.write(j.dump(2) + "\n");
    else
      out.write(concat(tok->name(), ": ", text.size(), " bytes -> ", n_tokens, " tokens in ", best, " s: ", mbs,
                       " MB/s, ", double(n_tokens) / best / 1e6, " M tokens/s (1 thread, best of 5)\n"));
    if (!json_out->empty()) io::write_file(*json_out, j.dump(2) + "\n");
  });
}

}  // namespace gander::cli
