// gander bench-tokenizer: encoding throughput on one core.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "core/error.h"
#include "core/timer.h"
#include "tokenize/tokenizer.h"

namespace gander::cli {

void register_bench_tokenizer(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-tokenizer", "Measure tokenizer encoding speed (MB/s, one thread)");
  auto tokenizer = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto json_path = std::make_shared<std::string>();
  cmd->add_option("--tokenizer", *tokenizer, "Vocabulary / tokenizer file")->required();
  cmd->add_option("--text", *files, "Text files to encode (concatenated)")->required();
  cmd->add_option("--json", *json_path, "Also write the result as JSON");
  cmd->callback([=] {
    const auto tok = load_tokenizer(*tokenizer);
    std::string text;
    for (auto& f : *files) text += read_all(f);
    GANDER_CHECK(!text.empty(), "bench-tokenizer: the text files are empty");
    double best = 1e30;
    size_t n_tokens = 0;
    for (int r = 0; r < 5; ++r) {
      const double t0 = now_seconds();
      n_tokens = tok->encode(text).size();
      best = std::min(best, now_seconds() - t0);
    }
    const double mbs = double(text.size()) / best / 1e6;
    std::printf("%s: %zu bytes -> %zu tokens in %.3f s: %.1f MB/s, %.2f M tokens/s (one thread, best of 5)\n",
                tok->name().c_str(), text.size(), n_tokens, best, mbs, double(n_tokens) / best / 1e6);
    if (!json_path->empty())
      std::ofstream(*json_path) << nlohmann::json{{"tokenizer", tok->name()}, {"bytes", text.size()}, {"tokens", n_tokens},
                                                  {"seconds", best}, {"mb_per_s", mbs}}.dump(2)
                                << "\n";
  });
}

}  // namespace gander::cli
