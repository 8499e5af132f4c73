#include "data/shard_builder.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "data/token_shard.h"
#include "io/binidx.h"
#include "io/compressed_input.h"
#include "io/read_file.h"
#include "tokenize/utf8.h"

namespace gander::data {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool is_jsonl_name(const std::string& path) {
  for (const char* tail : {".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.zstd"})
    if (ends_with(path, tail)) return true;
  return false;
}

struct Document {
  std::string text, where;  // where: "file" or "file:line", for errors
};

// Reads the documents of the inputs in order, a batch at a time.
class DocumentReader {
 public:
  DocumentReader(const BuildOptions& o) : o_(o) {}
  // Appends documents until about `budget` bytes of text are held; false when all are read.
  bool next_batch(std::vector<Document>& out, size_t budget) {
    size_t held = 0;
    while (held < budget) {
      if (!input_) {
        if (next_file_ == o_.inputs.size()) return !out.empty();
        path_ = o_.inputs[next_file_++];
        input_.emplace(path_);
        line_ = 0;
        jsonl_ = o_.format == InputFormat::Jsonl || (o_.format == InputFormat::Auto && is_jsonl_name(path_));
      }
      if (!jsonl_) {
        out.push_back({input_->read_all(o_.max_document_bytes), path_});
        finish_file();
      } else if (!input_->next_line(line_text_)) {
        finish_file();
        continue;
      } else {
        ++line_;
        if (line_text_.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines
        const std::string where = path_ + ":" + std::to_string(line_);
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(line_text_);
        } catch (const nlohmann::json::exception& e) {
          fail(where, ": not a JSON object (", e.what(), ")");
        }
        GANDER_CHECK(j.is_object(), where, ": not a JSON object");
        const auto it = j.find(o_.field);
        GANDER_CHECK(it != j.end(), where, ": no field '", o_.field, "' (give the text's field with --field)");
        GANDER_CHECK(it->is_string(), where, ": field '", o_.field, "' is ", it->type_name(), ", not a string");
        out.push_back({it->get<std::string>(), where});
      }
      held += out.back().text.size();
    }
    return true;
  }
  uint64_t bytes_read() const { return done_bytes_ + (input_ ? input_->compressed_bytes_read() : 0); }

 private:
  void finish_file() {
    done_bytes_ += input_->compressed_bytes_read();
    input_.reset();
  }
  const BuildOptions& o_;
  size_t next_file_ = 0;
  std::optional<io::CompressedInput> input_;
  std::string path_, line_text_;
  int64_t line_ = 0;
  bool jsonl_ = false;
  uint64_t done_bytes_ = 0;
};

}  // namespace

InputFormat parse_input_format(const std::string& name) {
  if (name == "auto") return InputFormat::Auto;
  if (name == "text") return InputFormat::Text;
  if (name == "jsonl") return InputFormat::Jsonl;
  fail("unknown input format '", name, "' (auto, text or jsonl)");
}

BuildProgress build_shard(const Tokenizer& tokenizer, const BuildOptions& o,
                          const std::function<void(const BuildProgress&)>& progress) {
  GANDER_CHECK(!o.inputs.empty(), "data build: no input files");
  GANDER_CHECK(!o.prefix.empty(), "data build: no output prefix (-o)");
  const std::vector<int32_t> end = tokenizer.end_of_text();
  GANDER_CHECK(!end.empty(), "data build: tokenizer ", tokenizer.name(), " has no end-of-text token to end documents with");
  BuildProgress p;
  for (const std::string& in : o.inputs) {
    io::check_regular_file(in, "input");
    p.total_input_bytes += std::filesystem::file_size(in);
  }
  const auto t0 = std::chrono::steady_clock::now();
  io::BinidxWriter writer(o.prefix, io::token_width_for(tokenizer.vocab_size()));
  DocumentReader reader(o);
  std::vector<Document> batch;
  std::vector<std::vector<int32_t>> ids;
  while (reader.next_batch(batch, size_t(8) << 20)) {
    ids.assign(batch.size(), {});
    std::vector<std::string> errors(batch.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < batch.size(); ++i) {
      const size_t bad = first_invalid_utf8(batch[i].text);
      if (bad != std::string::npos) {
        errors[i] = concat(batch[i].where, ": not valid UTF-8 at byte ", bad);
        continue;
      }
      try {
        ids[i] = tokenizer.encode(batch[i].text);
        ids[i].push_back(end[0]);
      } catch (const std::exception& e) {  // (nothing may leave a parallel region)
        errors[i] = concat(batch[i].where, ": ", e.what());
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      GANDER_CHECK(errors[i].empty(), errors[i]);
      writer.add_document(ids[i]);
    }
    batch.clear();
    p.documents = writer.documents(), p.tokens = writer.tokens(), p.input_bytes = reader.bytes_read();
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) progress(p);
  }
  GANDER_CHECK(writer.documents() > 0, "data build: the inputs hold no documents");
  writer.commit();
  ShardInfo info{tokenizer.name(), tokenizer_fingerprint(tokenizer), tokenizer.vocab_size(), end[0],
                 writer.documents(), writer.tokens(), int64_t(p.total_input_bytes), o.inputs};
  write_shard_info(o.prefix, info);
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

}  // namespace gander::data
