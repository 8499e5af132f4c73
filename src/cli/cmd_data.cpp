// gander data build / data inspect: token shards for training and scoring (data/).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/tokenizer_args.h"
#include "core/error.h"
#include "data/shard_builder.h"
#include "data/token_shard.h"
#include "io/binidx.h"

namespace gander::cli {
namespace {

std::string mb(double bytes) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.1f MB", bytes / 1e6);
  return b;
}

// "-" when the terminal line would be overwritten; a full line per update otherwise would flood logs.
void draw(const data::BuildProgress& p) {
  const double pct = p.total_input_bytes ? 100.0 * double(p.input_bytes) / double(p.total_input_bytes) : 100.0;
  std::fprintf(stderr, "\r\033[Kdata build: %s of %s (%.0f%%), %.1f MB/s, %lld documents, %lld tokens",
               mb(double(p.input_bytes)).c_str(), mb(double(p.total_input_bytes)).c_str(), pct,
               p.seconds > 0 ? double(p.input_bytes) / 1e6 / p.seconds : 0.0, static_cast<long long>(p.documents),
               static_cast<long long>(p.tokens));
  std::fflush(stderr);
}

}  // namespace

void register_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Token shards (binidx, as RWKV-LM and Megatron read them)");
  data->require_subcommand(1);

  auto* build = data->add_subcommand("build", "Tokenize text or JSONL files (optionally .gz / .zst) into PREFIX.bin/.idx/.json");
  auto opt = std::make_shared<data::BuildOptions>();
  auto tokenizer = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("auto");
  auto json = std::make_shared<bool>(false);
  build->add_option("inputs", opt->inputs, "Input files: plain text (one document each) or JSONL (one per line)")
      ->required();
  build->add_option("--tokenizer", *tokenizer,
                    "Tokenizer file (rwkv_vocab_v20230424.txt, tokenizer.json) or a model folder holding tokenizer.json")
      ->required();
  build->add_option("--format", *format, "auto (by name: .jsonl[.gz|.zst] is JSONL), text or jsonl")
      ->check(CLI::IsMember({"auto", "text", "jsonl"}))
      ->capture_default_str();
  build->add_option("--field", opt->field, "The JSONL field holding a document's text")->capture_default_str();
  build->add_option("-o,--out", opt->prefix, "Output prefix: writes PREFIX.bin, PREFIX.idx and PREFIX.json")->required();
  build->add_flag("--json", *json, "Print the summary as JSON");
  build->callback([=] {
    opt->format = data::parse_input_format(*format);
    const bool folder = std::filesystem::is_directory(*tokenizer);
    const auto t = load_tokenizer(tokenizer_path(folder ? "" : *tokenizer, folder ? *tokenizer : ""));
    const bool tty = isatty(STDERR_FILENO);
    const data::BuildProgress p = data::build_shard(*t, *opt, tty ? std::function(draw) : nullptr);
    if (tty) std::fprintf(stderr, "\r\033[K");
    StdoutWriter out;
    const double rate = p.seconds > 0 ? double(p.total_input_bytes) / 1e6 / p.seconds : 0.0;
    if (*json) {
      out.write(nlohmann::json{{"prefix", opt->prefix},
                               {"documents", p.documents},
                               {"tokens", p.tokens},
                               {"input_bytes", p.total_input_bytes},
                               {"seconds", p.seconds},
                               {"mb_per_s", rate},
                               {"token_dtype", io::token_width_for(t->vocab_size()) == io::TokenWidth::U16 ? "uint16" : "int32"}}
                    .dump() +
                "\n");
    } else {
      char line[512];
      std::snprintf(line, sizeof(line), "wrote %s.{bin,idx,json}: %lld documents, %lld tokens from %s in %.1f s (%.1f MB/s)\n",
                    opt->prefix.c_str(), static_cast<long long>(p.documents), static_cast<long long>(p.tokens),
                    mb(double(p.total_input_bytes)).c_str(), p.seconds, rate);
      out.write(line);
    }
  });

  auto* inspect = data->add_subcommand("inspect", "Check a shard and describe it");
  auto prefix = std::make_shared<std::string>();
  inspect->add_option("prefix", *prefix, "The shard's prefix (PREFIX.bin, PREFIX.idx)")->required();
  inspect->callback([=] {
    const data::TokenShard shard(*prefix, nullptr, 0);
    const auto& r = shard.reader();
    nlohmann::json j{{"prefix", *prefix},
                     {"documents", r.documents()},
                     {"tokens", r.tokens()},
                     {"token_dtype", r.width() == io::TokenWidth::U16 ? "uint16" : "int32"}};
    if (const auto& info = shard.info()) {
      j["tokenizer"] = info->tokenizer;
      j["tokenizer_fingerprint"] = info->fingerprint;
      j["vocab_size"] = info->vocab_size;
      j["end_token"] = info->end_token;
      j["sources"] = info->sources;
    }
    StdoutWriter out;
    out.write(j.dump(2) + "\n");
  });
}

}  // namespace gander::cli
