// Text in, token shard out: the documents of plain-text files (each file one document) or of
// JSONL files (each line an object whose `field` holds one document's text), any of them gzip-
// or zstd-compressed, tokenized in parallel and written in input order as one binidx shard with
// its description (data/token_shard.h). Every document ends with the tokenizer's end token.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tokenize/tokenizer.h"

namespace gander::data {

enum class InputFormat { Auto, Text, Jsonl };  // Auto: JSONL for names ending .jsonl[.gz|.zst], else text
InputFormat parse_input_format(const std::string& name);

struct BuildOptions {
  std::vector<std::string> inputs;
  InputFormat format = InputFormat::Auto;
  std::string field = "text";
  std::string prefix;                        // writes PREFIX.bin, PREFIX.idx, PREFIX.json
  uint64_t max_document_bytes = uint64_t(1) << 30;
};

struct BuildProgress {
  int64_t documents = 0, tokens = 0;
  uint64_t input_bytes = 0;      // read from the files so far (compressed size where compressed)
  uint64_t total_input_bytes = 0;
  double seconds = 0;
};

// Nothing is written unless every input reads and tokenizes cleanly; errors name the file (and
// the line of a JSONL file). `progress` is called after each batch of documents.
BuildProgress build_shard(const Tokenizer& tokenizer, const BuildOptions& options,
                          const std::function<void(const BuildProgress&)>& progress = {});

}  // namespace gander::data
