// gander perplexity: perplexity, mean NLL and bits per byte of a model over a text file or a
// token shard (eval/perplexity.h says which tokens each window scores).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/model_args.h"
#include "cli/tokenizer_args.h"
#include "core/error.h"
#include "data/token_shard.h"
#include "eval/perplexity.h"

namespace gander::cli {
namespace {

// The BOS id when the model folder's tokenizer_config.json asks for one (add_bos_token), else -1.
int32_t bos_to_add(const std::string& model_path, const Tokenizer& t) {
  const std::string path = model_path + "/tokenizer_config.json";
  if (!std::filesystem::is_regular_file(path)) return -1;
  const auto j = nlohmann::json::parse(std::ifstream(path), nullptr, false);
  if (!j.is_object() || !j.value("add_bos_token", false) || !j.contains("bos_token")) return -1;
  const auto& b = j["bos_token"];
  const std::string content = b.is_string() ? b.get<std::string>() : b.is_object() ? b.value("content", "") : "";
  const int32_t id = t.special_id(content);
  GANDER_CHECK(id >= 0, path, ": add_bos_token is set but bos_token '", content, "' is not a token of the tokenizer");
  return id;
}

}  // namespace

void register_perplexity(CLI::App& app) {
  auto* cmd = app.add_subcommand("perplexity", "Perplexity, mean NLL and bits per byte over a text or a token shard");
  auto margs = std::make_shared<ModelArgs>();
  auto file = std::make_shared<std::string>();
  auto shards = std::make_shared<std::string>();
  auto tokenizer = std::make_shared<std::string>();
  auto opt = std::make_shared<eval::PerplexityOptions>();
  auto json = std::make_shared<bool>(false);
  margs->add_to(cmd);
  auto* file_opt = cmd->add_option("file", *file, "A text file to score (tokenized with the model's tokenizer)");
  cmd->add_option("--shards", *shards, "Score a token shard (PREFIX.bin/.idx from `gander data build`) instead")
      ->excludes(file_opt);
  cmd->add_option("--tokenizer", *tokenizer, "Tokenizer file (default: the model folder's tokenizer.json)");
  cmd->add_option("--ctx", opt->ctx, "Input tokens per window")->check(at_least(1))->capture_default_str();
  cmd->add_option("--stride", opt->stride, "Tokens between window starts (default: --ctx, no overlap)")
      ->check(at_least(1));
  cmd->add_option("--batch", opt->batch, "Windows run together")->check(at_least(1))->capture_default_str();
  cmd->add_flag("--stream", opt->stream,
                "Score the whole text as one running sequence (RWKV-7: one recurrent state) instead of windows");
  cmd->add_flag("--json", *json, "Print perplexity, nll, bits_per_byte, tokens (and the settings) as JSON");
  cmd->callback([=] {
    GANDER_CHECK(!file->empty() || !shards->empty(), "perplexity: give a text file or --shards PREFIX");
    if (margs->precision == "auto") margs->precision = "f32";  // a measurement: exact products unless asked
    auto model = margs->load();
    std::unique_ptr<Tokenizer> tok;
    std::vector<int32_t> tokens;
    if (!file->empty()) {
      tok = load_tokenizer_for(*tokenizer, *margs, *model);
      const int32_t bos = std::filesystem::is_directory(margs->path) ? bos_to_add(margs->path, *tok) : -1;
      if (bos >= 0) tokens.push_back(bos);
      const std::string text = read_input_file(*file, "text to score");
      try {
        for (int32_t t : tok->encode(text)) tokens.push_back(t);
      } catch (const Error& e) {
        fail(*file, ": ", e.what());
      }
    } else {
      // The shard's tokens must be the model's: by its description when the tokenizer is known.
      if (!tokenizer->empty() || std::filesystem::is_regular_file(margs->path + "/tokenizer.json"))
        tok = load_tokenizer_for(*tokenizer, *margs, *model);
      const data::TokenShard shard(*shards, tok.get(), model->vocab());
      tokens.resize(size_t(shard.tokens()));
      shard.read(0, tokens);
    }
    opt->run = model->options();
    opt->initial = &model->initial_state();
    const std::vector<int64_t> lengths = tok ? eval::token_byte_lengths(*tok, model->vocab()) : std::vector<int64_t>{};
    const bool tty = isatty(STDERR_FILENO);
    const auto progress = [&](int64_t done, int64_t total) {
      std::fprintf(stderr, "\r\033[Kperplexity: %lld/%lld tokens (%.0f%%)", static_cast<long long>(done),
                   static_cast<long long>(total), 100.0 * double(done) / double(total));
      std::fflush(stderr);
    };
    const eval::PerplexityResult r = eval::perplexity(model->shared_model(), tokens, *opt, tok ? &lengths : nullptr,
                                                      tty ? std::function<void(int64_t, int64_t)>(progress) : nullptr);
    if (tty) std::fprintf(stderr, "\r\033[K");
    const int64_t stride = opt->stride ? opt->stride : opt->ctx;
    StdoutWriter out;
    if (*json) {
      nlohmann::json j{{"perplexity", r.perplexity()}, {"nll", r.mean_nll()},   {"tokens", r.tokens},
                       {"windows", r.windows},         {"ctx", opt->ctx},       {"mode", opt->stream ? "stream" : "windows"}};
      j["bits_per_byte"] = tok ? nlohmann::json(r.bits_per_byte()) : nlohmann::json(nullptr);
      if (!opt->stream) j["stride"] = stride;
      out.write(j.dump() + "\n");
    } else {
      char line[512];
      const std::string how = opt->stream ? concat("one running sequence, fed ", opt->ctx, " tokens at a time")
                                          : concat(r.windows, " windows of ", opt->ctx, " tokens, stride ", stride);
      std::snprintf(line, sizeof(line), "perplexity %.4f: mean NLL %.6f nats over %lld tokens%s (%s)\n", r.perplexity(),
                    r.mean_nll(), static_cast<long long>(r.tokens),
                    tok ? concat(", ", r.bits_per_byte(), " bits per byte").c_str() : "", how.c_str());
      out.write(line);
    }
  });
}

}  // namespace gander::cli
