// The architectures gander runs, and how a path on disk becomes one of them. Each architecture
// describes itself once (models/<arch>/architecture.cpp): how to recognise its files, load them,
// build a random model of a given shape, and describe a model for `inspect`. The commands ask the
// registry; no file above models/ names an architecture.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/checkpoint.h"
#include "models/runner.h"

namespace gander::models {

struct LoadOptions {
  std::optional<DType> convert;  // convert weight matrices to this dtype on load
  int64_t chunk = 0;             // longest prefill chunk; 0: the architecture's default
  bool reference = false;        // run the plain reference kernels
  std::string time_state;        // a state-tuned initial state (architectures with one)
  uint64_t seed = 0;             // random models
};

// What detection looks at, read once: a folder's config.json, or a file's tensors.
struct ModelSource {
  std::string path;
  bool folder = false;
  std::optional<nlohmann::json> config;       // the folder's config.json
  std::string model_type;                     // config.json "model_type" ("" if absent)
  std::vector<std::string> hf_architectures;  // config.json "architectures"
  std::optional<io::Checkpoint> checkpoint;   // a file's tensors (not read for folders)
  static ModelSource open(const std::string& path);
};

// `gander convert`: where and how to write a model.
struct SaveOptions {
  std::string out;             // a .safetensors file, or a folder where the naming needs config.json
  std::optional<DType> dtype;  // weight matrices converted to this dtype (small tensors stay f32)
  std::string names = "official";  // "official": the architecture's own (RWKV-LM for RWKV-7, Hugging
                                   // Face for Qwen2); "hf": Hugging Face / fla names in a folder
};

// `gander train`: where and how to write a trained model.
struct TrainedSave {
  std::string out;        // a folder that load() opens
  std::string source;     // the model it was loaded from ("" for a fresh one)
  std::string shape;      // a fresh model's shape (as for --random)
  std::string tokenizer;  // a tokenizer file or folder whose files go beside the weights ("": none)
  std::string config_json;  // a converted student's config.json (then source is its teacher)
};

struct ConvertedStudent {
  std::unique_ptr<Decoder> decoder;
  std::string config_json;  // for TrainedSave::config_json
};

// How well a source matches an architecture.
struct Detection {
  int score = 0;     // 0: not this architecture; 1: by tensor names; 2: by config.json
  std::string hint;  // with score 0: why this architecture's files cannot be loaded from here
};

struct Architecture {
  std::string name;           // "rwkv7"
  std::string summary;        // one line for listings
  std::string random_example; // a --random shape, e.g. "rwkv7:L12,D768,V65536"
  std::string chat_format;    // the chat format without a template in the folder: "rwkv" or "chatml"
  std::string sampling;       // sampling defaults without generation_config.json: "rwkv" (the official
                              // pipeline's) or "transformers"
  Detection (*detect)(const ModelSource&);
  std::unique_ptr<Runner> (*load)(ModelSource&, const LoadOptions&);
  std::unique_ptr<Runner> (*random)(const std::string& shape, const LoadOptions&);
  // Architecture-specific facts for `inspect` (configuration, naming, official parameter count).
  nlohmann::json (*describe)(ModelSource&);
  // Writes the model as safetensors (with config.json for folder namings), atomically per file.
  void (*save)(ModelSource&, const SaveOptions&);
  // A decoder of a --random shape without weights (training initialises it).
  std::unique_ptr<Decoder> (*build_shape)(const std::string& shape);
  // Training: the weights of a source as stored, not finished (fine-tuning starts from them).
  std::unique_ptr<Decoder> (*read_weights)(ModelSource&);
  // Writes a trained decoder of this architecture (f32 master weights) as a folder: weights,
  // config.json and the tokenizer, so that every command runs it as it is.
  void (*save_trained)(const Decoder&, const TrainedSave&);
  // Writes a tuned initial state as the file --time-state reads; null where there is none.
  void (*save_time_state)(const Decoder&, const SequenceState&, const std::string& path);
  // A student of this architecture built from a teacher (RADLADS: the RADLADS init from a Qwen2
  // teacher with row-major weights; `options` as after the colon of `rad_rwkv7:G,A1`), with its
  // config.json; null where the architecture is no student of another.
  ConvertedStudent (*student_of)(const Decoder& teacher, const std::string& options, uint64_t seed);
};

const std::vector<const Architecture*>& architectures();
std::string architecture_names();  // "rwkv7, qwen2, rad_rwkv7, rad_rwkv6"
// The architecture of a path, or an error that says what was found and what to give instead.
const Architecture& detect(const ModelSource& source);
std::unique_ptr<Runner> load_model(const std::string& path, const LoadOptions& opt);
// spec: "<architecture>:<shape>", e.g. "qwen2:L24,D896,H14,KV2,I4864,V151936,T".
std::unique_ptr<Runner> random_model(const std::string& spec, const LoadOptions& opt);
const Architecture& architecture_named(const std::string& name);
// spec as for random_model: a model to train (bench-train), its own f32 row-major weights from
// the declared inits.
// InitSet::Fresh gives the architecture's official from-scratch init (a training run).
std::unique_ptr<Decoder> trainable_random_model(const std::string& spec, uint64_t seed,
                                                InitSet set = InitSet::Random);
// A model to train from `path` (any path load_model takes): its architecture and its weights as
// stored, not finished.
struct TrainableModel {
  const Architecture* architecture;
  std::unique_ptr<Decoder> decoder;
};
TrainableModel trainable_model(const std::string& path);
// Copies a tokenizer (a file, or the tokenizer files of a folder) into the folder `out`.
void copy_tokenizer_files(const std::string& tokenizer, const std::string& out);
// A Hugging Face folder `out`: model.safetensors (the table under Hugging Face names, matrices in
// `dtype` if given), config.json as given, and the tokenizer and generation files of `files_from`
// (a folder or a tokenizer file; "" for none). Each file written atomically.
void write_hf_folder(const ParamTable& table, const std::string& config_json, const std::string& files_from,
                     const std::string& out, const DType* dtype = nullptr);
// The config.json of `folder` for a copy whose weights are in `dtype` (torch_dtype updated).
std::string config_for_copy(const std::string& folder, std::optional<DType> dtype);
// `gander convert` of a Hugging Face folder's model (its table as read from `folder`): the copy
// as `o` says, with the folder's config.json and tokenizer files; never over the folder itself.
void save_hf_copy(const ParamTable& table, const std::string& folder, const SaveOptions& o);
// Loads `in` (any path load_model takes) and writes it as `opt` says.
void convert_model(const std::string& in, const SaveOptions& opt);

}  // namespace gander::models
