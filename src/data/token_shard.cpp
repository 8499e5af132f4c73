#include "data/token_shard.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/read_file.h"

namespace gander::data {

std::string tokenizer_fingerprint(const Tokenizer& t) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64-bit
  auto mix = [&h](const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(p)[i]) * 0x100000001b3ull;
  };
  const int64_t V = t.vocab_size();
  mix(&V, sizeof(V));
  for (int32_t id = 0; id < V; ++id) {
    const std::string bytes = token_text(t, id).value_or("\xff<none>");  // (an unused id hashes as a marker)
    const uint64_t n = bytes.size();
    mix(&n, sizeof(n));
    mix(bytes.data(), bytes.size());
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

void write_shard_info(const std::string& prefix, const ShardInfo& s) {
  nlohmann::json j{{"format", "gander-token-shard"}, {"version", 1},
                   {"tokenizer", s.tokenizer},       {"tokenizer_fingerprint", s.fingerprint},
                   {"vocab_size", s.vocab_size},     {"end_token", s.end_token},
                   {"documents", s.documents},       {"tokens", s.tokens},
                   {"input_bytes", s.input_bytes},   {"sources", s.sources}};
  io::write_file(prefix + ".json", j.dump(2) + "\n");
}

std::optional<ShardInfo> read_shard_info(const std::string& prefix) {
  const std::string path = prefix + ".json";
  if (!std::filesystem::exists(path)) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_file(path, 64 * io::kMiB, "shard description"));
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": not valid JSON (", e.what(), ")");
  }
  GANDER_CHECK(j.is_object() && j.value("format", "") == "gander-token-shard", path, ": not a gander shard description");
  ShardInfo s;
  try {
    s.tokenizer = j.at("tokenizer").get<std::string>();
    s.fingerprint = j.at("tokenizer_fingerprint").get<std::string>();
    s.vocab_size = j.at("vocab_size").get<int64_t>();
    s.end_token = j.at("end_token").get<int64_t>();
    s.documents = j.at("documents").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.input_bytes = j.value("input_bytes", int64_t(0));
    if (j.contains("sources")) s.sources = j.at("sources").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": ", e.what());
  }
  return s;
}

TokenShard::TokenShard(const std::string& prefix, const Tokenizer* tokenizer, int64_t model_vocab)
    : reader_(prefix), info_(read_shard_info(prefix)) {
  if (info_) {
    GANDER_CHECK(info_->tokens == reader_.tokens() && info_->documents == reader_.documents(), prefix,
                 ".json: describes ", info_->documents, " documents of ", info_->tokens, " tokens, but the shard holds ",
                 reader_.documents(), " of ", reader_.tokens(), " (files from different builds?)");
  }
  if (tokenizer && info_) {
    const std::string fp = tokenizer_fingerprint(*tokenizer);
    GANDER_CHECK(info_->vocab_size == tokenizer->vocab_size() && info_->fingerprint == fp, prefix,
                 ": made by tokenizer ", info_->tokenizer, " (", info_->vocab_size, " tokens, fingerprint ",
                 info_->fingerprint, "), not by ", tokenizer->name(), " (", tokenizer->vocab_size(), " tokens, fingerprint ",
                 fp, ")");
  }
  if (model_vocab > 0) {
    if (info_) {
      GANDER_CHECK(info_->vocab_size <= model_vocab, prefix, ": tokens of a ", info_->vocab_size,
                   "-token vocabulary do not fit a model of ", model_vocab);
    } else {
      std::vector<int32_t> chunk(size_t(1) << 20);
      for (int64_t at = 0; at < reader_.tokens(); at += int64_t(chunk.size())) {
        const int64_t n = std::min<int64_t>(int64_t(chunk.size()), reader_.tokens() - at);
        reader_.read(at, std::span(chunk).first(size_t(n)));
        for (int64_t i = 0; i < n; ++i)
          GANDER_CHECK(chunk[size_t(i)] >= 0 && chunk[size_t(i)] < model_vocab, prefix, ".bin: token ", at + i, " is ",
                       chunk[size_t(i)], ", outside the model's vocabulary of ", model_vocab);
      }
    }
  }
}

}  // namespace gander::data
