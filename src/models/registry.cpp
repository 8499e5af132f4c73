#include "models/registry.h"

#include <filesystem>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/hf_config.h"
#include "io/read_file.h"
#include "io/safetensors.h"
#include "models/qwen2/architecture.h"
#include "models/radlads/architecture.h"
#include "models/rwkv7/architecture.h"

namespace gander::models {

const std::vector<const Architecture*>& architectures() {
  // A new architecture is one more line here and its models/<arch>/architecture.cpp.
  static const std::vector<const Architecture*> all = {&rwkv7::architecture(), &qwen2::architecture(),
                                                       &radlads::rwkv7_architecture(), &radlads::rwkv6_architecture()};
  return all;
}

std::string architecture_names() {
  std::string s;
  for (const Architecture* a : architectures()) s += (s.empty() ? "" : ", ") + a->name;
  return s;
}

const Architecture& architecture_named(const std::string& name) {
  for (const Architecture* a : architectures())
    if (a->name == name) return *a;
  fail("unknown architecture '", name, "' (gander runs ", architecture_names(), ")");
}

ModelSource ModelSource::open(const std::string& path) {
  namespace fs = std::filesystem;
  ModelSource s;
  s.path = path;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  GANDER_CHECK(fs::exists(st), path, ": no such file or folder");
  s.folder = fs::is_directory(st);
  if (s.folder) {
    const fs::path cfg = fs::path(path) / "config.json";
    if (fs::exists(cfg, ec)) {
      const io::JsonConfig j = io::JsonConfig::load(cfg.string());  // an object, or it throws
      if (j.has("model_type")) s.model_type = j.get_string("model_type");
      if (j.has("architectures") && j.json()["architectures"].is_array())
        for (const auto& a : j.json()["architectures"])
          if (a.is_string()) s.hf_architectures.push_back(a.get<std::string>());
      s.config = j.json();
    }
    return s;
  }
  GANDER_CHECK(fs::is_regular_file(st), path, ": not a regular file or a folder");
  GANDER_CHECK(fs::path(path).filename() != "config.json", path,
               ": this is a model's config.json; give the folder that holds it");
  s.checkpoint = io::load_checkpoint(path);
  return s;
}

const Architecture& detect(const ModelSource& source) {
  const Architecture* best = nullptr;
  int best_score = 0;
  std::string hints;
  for (const Architecture* a : architectures()) {
    const Detection d = a->detect(source);
    if (d.score > best_score) best = a, best_score = d.score;
    if (d.score == 0 && !d.hint.empty()) hints += (hints.empty() ? "" : "; ") + d.hint;
  }
  if (best) return *best;
  GANDER_CHECK(hints.empty(), source.path, ": ", hints);
  if (source.folder && !source.config)
    fail(source.path, ": a folder without config.json (give the checkpoint file, or a Hugging Face folder)");
  if (source.folder && source.model_type.empty())
    fail(source.path, "/config.json: no field 'model_type' names the architecture (gander runs ", architecture_names(),
         "; an RWKV-7 checkpoint may also be given as its .pth or .safetensors file)");
  if (source.folder)
    fail(source.path, "/config.json: model_type '", source.model_type, "' is not an architecture gander runs (",
         architecture_names(), ")");
  fail(source.path, ": the tensors are of no architecture gander runs (", architecture_names(),
       "); `gander inspect --tensors` lists them");
}

std::unique_ptr<Runner> load_model(const std::string& path, const LoadOptions& opt) {
  ModelSource source = ModelSource::open(path);
  return detect(source).load(source, opt);
}

void convert_model(const std::string& in, const SaveOptions& opt) {
  GANDER_CHECK(opt.names == "official" || opt.names == "hf", "--names must be 'official' or 'hf', got '", opt.names, "'");
  ModelSource source = ModelSource::open(in);
  detect(source).save(source, opt);
}

namespace {
// The architecture and shape of an "ARCHITECTURE:SHAPE" spec.
std::pair<const Architecture*, std::string> random_spec(const std::string& spec) {
  const size_t colon = spec.find(':');
  std::string examples;
  for (const Architecture* a : architectures()) examples += (examples.empty() ? "" : " or ") + a->random_example;
  GANDER_CHECK(colon != std::string::npos, "--random '", spec, "': expected ARCHITECTURE:SHAPE, e.g. ", examples);
  const std::string name = spec.substr(0, colon);
  for (const Architecture* a : architectures())
    if (a->name == name) return {a, spec.substr(colon + 1)};
  fail("--random: unknown architecture in '", spec, "' (", examples, ")");
}
}  // namespace

std::unique_ptr<Runner> random_model(const std::string& spec, const LoadOptions& opt) {
  const auto [a, shape] = random_spec(spec);
  return a->random(shape, opt);
}

std::unique_ptr<Decoder> trainable_random_model(const std::string& spec, uint64_t seed, InitSet set) {
  const auto [a, shape] = random_spec(spec);
  GANDER_CHECK(a->build_shape, "--random '", spec, "': ", a->name, " models cannot be trained yet");
  std::unique_ptr<Decoder> d = a->build_shape(shape);
  d->info().source = concat("random ", d->info().shape);
  d->info().format = "random";
  init_params(d->params(), DType::F32, seed, set);
  return d;
}

TrainableModel trainable_model(const std::string& path) {
  ModelSource s = ModelSource::open(path);
  const Architecture& a = detect(s);
  GANDER_CHECK(a.read_weights, path, ": ", a.name, " models cannot be trained yet");
  TrainableModel m{&a, a.read_weights(s)};
  m.decoder->info().source = path;
  return m;
}

void copy_tokenizer_files(const std::string& tokenizer, const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (tokenizer.empty()) return;
  std::vector<fs::path> files;
  if (fs::is_directory(tokenizer, ec)) {
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                          "special_tokens_map.json", "generation_config.json", "rwkv_vocab_v20230424.txt"})
      if (fs::is_regular_file(fs::path(tokenizer) / f, ec)) files.push_back(fs::path(tokenizer) / f);
  } else {
    files.push_back(tokenizer);
  }
  for (const fs::path& f : files)
    io::write_file((fs::path(out) / f.filename()).string(), io::read_file(f.string(), 512ull << 20, "tokenizer"));
}

void write_hf_folder(const ParamTable& table, const std::string& config_json, const std::string& files_from,
                     const std::string& out, const DType* dtype) {
  io::NamedTensors tensors = stored_tensors(table, Naming::Hf, dtype);
  io::make_output_folder(out);
  io::save_safetensors(out + "/model.safetensors", tensors, {{"format", "pt"}});
  io::write_file(out + "/config.json", config_json);
  copy_tokenizer_files(files_from, out);
}

void save_hf_copy(const ParamTable& table, const std::string& folder, const SaveOptions& o) {
  std::error_code ec;
  GANDER_CHECK(!std::filesystem::equivalent(folder, o.out, ec), o.out,
               ": the output is the model's own folder; give another");
  write_hf_folder(table, config_for_copy(folder, o.dtype), folder, o.out, o.dtype ? &*o.dtype : nullptr);
}

std::string config_for_copy(const std::string& folder, std::optional<DType> dtype) {
  nlohmann::json j = io::JsonConfig::load((std::filesystem::path(folder) / "config.json").string()).json();
  if (dtype) j["torch_dtype"] = *dtype == DType::BF16 ? "bfloat16" : *dtype == DType::F16 ? "float16" : "float32";
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace gander::models
