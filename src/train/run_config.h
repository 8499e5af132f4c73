// The configuration of a training run (`gander train CONFIG.yaml [--set key=value ...]`): every
// key declared once in a table (name, type, default, what it does), which the parser, the
// `--keys` listing and docs/training.md all follow. YAML (yaml-cpp) with one section per group;
// a key the table does not hold, a value of the wrong type or out of range is an error naming the
// file, line and key before anything runs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace gander::train {

struct RunConfig {
  // run
  std::string out;          // the run's folder: checkpoints/, metrics.jsonl, final/
  uint64_t seed = 0;        // of the init and of the data walk
  int64_t steps = 0;        // optimizer steps (one of steps / tokens)
  int64_t tokens = 0;       // or a token budget: steps = ceil(tokens / (batch * seq))
  // model
  std::string from;         // a checkpoint gander loads (fine-tuning, state tuning)
  std::string shape;        // or a fresh model: "rwkv7:L4,D256,V65536", "qwen2:L6,D512,H4,KV2,I1536,V151936"
  std::vector<std::string> train, freeze;  // parameter-name globs
  bool state_tuning = false;
  std::string precision = "f32";  // of the matrix products: f32 or bf16
  // RADLADS: the loss (lm: next-token cross-entropy; align: Step 1; distill: Step 2), the teacher
  // of align / distill, and a student built from model.from (the teacher) by the RADLADS init.
  std::string objective = "lm";
  std::string teacher;      // default for align / distill with model.convert: model.from
  std::string convert;      // "rad_rwkv7[:G][,A<n>]": model.from is the teacher to convert
  // data
  std::string data_train, data_valid;  // shard prefixes (data build)
  std::string tokenizer;    // checks the shards (fingerprint) and goes into final/
  int64_t valid_tokens = 0; // held out from the end of data.train when data.valid is not given
  int64_t seq = 512, batch = 8, micro_batch = 0;  // tokens per sequence; sequences per step; per pass (0: batch)
  // optimizer
  std::string schedule = "cosine";  // constant, linear, cosine, quarter_cosine
  double lr = 6e-4, lr_final = 6e-5;
  int64_t warmup_steps = 10;
  double warmup_from = 0.01;
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-8, weight_decay = 0.0, grad_clip = 1.0, l2wrap = 0.0;
  double lr_scale_w0 = 2.0;
  // RADLADS: the mixers' own learning rate (negative: optimizer.lr's schedule), the parameters
  // it applies to, and the window of the progress the schedules decay over (lr_wait, lr_endpoint).
  double mixer_lr = -1, mixer_lr_final = -1;
  std::vector<std::string> mixer_params = {"*.self_attn.*"};
  double decay_start = 0.0, decay_end = 1.0;
  // eval
  int64_t eval_every = 100, eval_tokens = 65536;
  // checkpoint
  int64_t checkpoint_every = 100, keep = 3;

  int64_t total_steps() const;
  int64_t tokens_per_step() const { return batch * seq; }
  // A hash of the keys that shape the trajectory (model, data, optimizer, seed): a resumed run
  // must match the checkpoint's; the budget and the eval/checkpoint cadence may change.
  std::string trajectory_fingerprint() const;
};

struct ConfigKey {
  const char* name;  // "optimizer.lr"
  const char* type;  // "string", "integer", "number", "boolean", "list of strings"
  const char* default_value;
  const char* doc;
};
const std::vector<ConfigKey>& config_keys();

// Reads `path` (YAML), then applies each "key=value" override (the value read as YAML). Checks
// every key, type and range; throws naming the file, line and key.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);
// One key of the table set from a YAML value ("optimizer.lr"); `where` opens any error. For
// files that hold run keys among their own (a RADLADS recipe).
void apply_run_key(RunConfig& config, const std::string& key, const YAML::Node& value, const std::string& where);
// A YAML scalar read as the table reads its integers and numbers: the whole text, within [lo, hi].
int64_t yaml_integer(const YAML::Node& node, const std::string& where, int64_t lo, int64_t hi);
double yaml_number(const YAML::Node& node, const std::string& where, double lo, double hi);
// A key's value as the table writes it ("optimizer.lr" -> "0.0006").
std::string run_key_value(const RunConfig& config, const std::string& key);
// The checks across keys that parse_run_config makes at the end; `source` opens any error.
void validate_run_config(const RunConfig& config, const std::string& source);
// "FILE:LINE: key 'a.b'" for a value of a YAML file.
std::string yaml_where(const std::string& source, const YAML::Node& node, const std::string& key);
// From YAML text (tests); `source` names it in errors.
RunConfig parse_run_config(const std::string& yaml, const std::string& source,
                           const std::vector<std::string>& overrides = {});

}  // namespace gander::train
