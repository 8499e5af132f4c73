#include "train/run_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "core/error.h"
#include "io/read_file.h"

namespace gander::train {

namespace {

// One key: its documentation and how it is read from a YAML node and written back (the
// fingerprint). `where` is "FILE:LINE: key 'a.b'" for errors.
struct KeyDef {
  ConfigKey key;
  std::function<void(RunConfig&, const YAML::Node&, const std::string& where)> set;
  std::function<std::string(const RunConfig&)> get;
};

std::string scalar(const YAML::Node& n, const std::string& where, const char* type) {
  GANDER_CHECK(n.IsScalar(), where, ": expected ", type, ", got ", n.IsSequence() ? "a list" : n.IsMap() ? "a map" : "nothing");
  return n.Scalar();
}

int64_t as_integer(const YAML::Node& n, const std::string& where, int64_t lo, int64_t hi) {
  const std::string s = scalar(n, where, "an integer");
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  GANDER_CHECK(used == s.size() && !s.empty(), where, ": expected an integer, got '", s, "'");
  GANDER_CHECK(v >= lo && v <= hi, where, ": ", v, " is outside [", lo, ", ", hi, "]");
  return v;
}

double as_number(const YAML::Node& n, const std::string& where, double lo, double hi) {
  const std::string s = scalar(n, where, "a number");
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  GANDER_CHECK(used == s.size() && !s.empty() && std::isfinite(v), where, ": expected a number, got '", s, "'");
  GANDER_CHECK(v >= lo && v <= hi, where, ": ", v, " is outside [", lo, ", ", hi, "]");
  return v;
}

bool as_bool(const YAML::Node& n, const std::string& where) {
  const std::string s = scalar(n, where, "true or false");
  if (s == "true" || s == "True" || s == "yes") return true;
  if (s == "false" || s == "False" || s == "no") return false;
  fail(where, ": expected true or false, got '", s, "'");
}

std::vector<std::string> as_list(const YAML::Node& n, const std::string& where) {
  if (n.IsScalar()) return {n.Scalar()};  // one pattern without brackets
  GANDER_CHECK(n.IsSequence() || n.IsNull(), where, ": expected a list of strings");
  std::vector<std::string> out;
  for (const YAML::Node& e : n) {
    GANDER_CHECK(e.IsScalar(), where, ": expected a list of strings, found a ", e.IsMap() ? "map" : "list", " in it");
    out.push_back(e.Scalar());
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& e : v) s += (s.empty() ? "" : ",") + e;
  return s;
}

constexpr int64_t kBig = int64_t(1) << 50;

// Helpers that declare a key of each type from a member pointer.
KeyDef str(const char* name, std::string RunConfig::*m, const char* def, const char* doc,
           std::vector<std::string> choices = {}) {
  return {{name, "string", def, doc},
          [m, choices, name](RunConfig& c, const YAML::Node& n, const std::string& w) {
            const std::string v = n.IsNull() ? "" : scalar(n, w, "a string");
            if (!choices.empty()) {
              bool ok = false;
              for (const std::string& ch : choices) ok = ok || ch == v;
              GANDER_CHECK(ok, w, ": '", v, "' is not one of ", join(choices));
            }
            c.*m = v;
          },
          [m](const RunConfig& c) { return c.*m; }};
}
KeyDef integer(const char* name, int64_t RunConfig::*m, const char* def, const char* doc, int64_t lo = 0,
               int64_t hi = kBig) {
  return {{name, "integer", def, doc},
          [m, lo, hi](RunConfig& c, const YAML::Node& n, const std::string& w) { c.*m = as_integer(n, w, lo, hi); },
          [m](const RunConfig& c) { return std::to_string(c.*m); }};
}
KeyDef number(const char* name, double RunConfig::*m, const char* def, const char* doc, double lo = 0,
              double hi = 1e30) {
  return {{name, "number", def, doc},
          [m, lo, hi](RunConfig& c, const YAML::Node& n, const std::string& w) { c.*m = as_number(n, w, lo, hi); },
          [m](const RunConfig& c) { return concat(c.*m); }};
}
KeyDef boolean(const char* name, bool RunConfig::*m, const char* def, const char* doc) {
  return {{name, "boolean", def, doc},
          [m](RunConfig& c, const YAML::Node& n, const std::string& w) { c.*m = as_bool(n, w); },
          [m](const RunConfig& c) { return std::string(c.*m ? "true" : "false"); }};
}
KeyDef list(const char* name, std::vector<std::string> RunConfig::*m, const char* doc, const char* def = "[]") {
  return {{name, "list of strings", def, doc},
          [m](RunConfig& c, const YAML::Node& n, const std::string& w) { c.*m = as_list(n, w); },
          [m](const RunConfig& c) { return join(c.*m); }};
}

const std::vector<KeyDef>& key_defs() {
  static const std::vector<KeyDef> keys = {
      str("run.out", &RunConfig::out, "(required)",
          "The run's folder: checkpoints/, metrics.jsonl, final/ (the trained model) or time_state.safetensors"),
      {{"run.seed", "integer", "0", "Seed of a fresh model's init and of the data walk"},
       [](RunConfig& c, const YAML::Node& n, const std::string& w) { c.seed = uint64_t(as_integer(n, w, 0, kBig)); },
       [](const RunConfig& c) { return std::to_string(c.seed); }},
      integer("run.steps", &RunConfig::steps, "0", "Optimizer steps to run (give this or run.tokens)"),
      integer("run.tokens", &RunConfig::tokens, "0",
              "Token budget instead of run.steps: ceil(tokens / (data.batch * data.seq)) steps"),
      str("model.from", &RunConfig::from, "\"\"",
          "A model gander loads (a .pth / .safetensors file or a Hugging Face folder) to fine-tune or state-tune"),
      str("model.shape", &RunConfig::shape, "\"\"",
          "Or a fresh model with the architecture's official init, e.g. rwkv7:L4,D256,V65536 or "
          "qwen2:L6,D512,H4,KV2,I1536,V151936,T"),
      list("model.train", &RunConfig::train, "Globs of the parameter names that train (all when empty)"),
      list("model.freeze", &RunConfig::freeze, "Globs of parameter names kept fixed (applied after model.train)"),
      boolean("model.state_tuning", &RunConfig::state_tuning, "false",
              "Train only the initial state (RWKV-7's per-layer WKV matrices); writes time_state.safetensors, "
              "which --time-state reads"),
      str("model.precision", &RunConfig::precision, "f32",
          "Matrix products: f32, or bf16 (bf16 operands, f32 accumulation and master weights)", {"f32", "bf16"}),
      str("model.objective", &RunConfig::objective, "lm",
          "The loss: lm (next-token cross-entropy), align (RADLADS step 1: each converted mixer's output to the "
          "teacher's attention output) or distill (RADLADS step 2: KL(teacher || student) of the next-token "
          "distributions)",
          {"lm", "align", "distill"}),
      str("model.teacher", &RunConfig::teacher, "\"\"",
          "The teacher of align / distill: a Qwen2 Hugging Face folder (default with model.convert: model.from)"),
      str("model.convert", &RunConfig::convert, "\"\"",
          "Start from a RADLADS student of model.from (a Qwen2 teacher) with the RADLADS init: rad_rwkv7 (the "
          "paper's balanced form with RoPE), rad_rwkv7:G (the repository default, GroupNorm), rad_rwkv6 (GLA with "
          "token shift), ,A<n> keeps the "
          "last n layers as attention (a hybrid)"),
      str("data.train", &RunConfig::data_train, "(required)", "Training shard prefix (gander data build -o PREFIX)"),
      str("data.valid", &RunConfig::data_valid, "\"\"", "Validation shard prefix; else data.valid_tokens are held out"),
      str("data.tokenizer", &RunConfig::tokenizer, "\"\"",
          "The tokenizer of the shards (checked against their fingerprint; copied into final/); default: the "
          "model folder's"),
      integer("data.valid_tokens", &RunConfig::valid_tokens, "0",
              "Tokens held out from the end of data.train for validation when data.valid is not given"),
      integer("data.seq", &RunConfig::seq, "512", "Tokens per training sequence (each with its next-token targets)", 1,
              int64_t(1) << 20),
      integer("data.batch", &RunConfig::batch, "8", "Sequences per optimizer step (over all processes)", 1, 1 << 20),
      integer("data.micro_batch", &RunConfig::micro_batch, "0",
              "Sequences per forward/backward pass (gradient accumulation when smaller than data.batch); 0: "
              "data.batch",
              0, 1 << 20),
      str("optimizer.schedule", &RunConfig::schedule, "cosine",
          "Learning rate after warmup over the run: constant, linear (lr to lr_final), cosine (half cosine, "
          "RWKV-LM) or quarter_cosine (RADLADS)",
          {"constant", "linear", "cosine", "quarter_cosine"}),
      number("optimizer.lr", &RunConfig::lr, "6e-4", "Peak learning rate", 0, 1e3),
      number("optimizer.lr_final", &RunConfig::lr_final, "6e-5", "Learning rate at the end of the schedule", 0, 1e3),
      integer("optimizer.warmup_steps", &RunConfig::warmup_steps, "10",
              "Steps of linear warmup: lr * (warmup_from + (1 - warmup_from) * step / warmup_steps)"),
      number("optimizer.warmup_from", &RunConfig::warmup_from, "0.01", "Fraction of lr the warmup starts from", 0, 1),
      number("optimizer.beta1", &RunConfig::beta1, "0.9", "Adam beta1", 0, 0.999999),
      number("optimizer.beta2", &RunConfig::beta2, "0.99", "Adam beta2", 0, 0.99999999),
      number("optimizer.eps", &RunConfig::eps, "1e-8", "Adam epsilon (the official RWKV-7 scripts pass 1e-18)", 0, 1),
      number("optimizer.weight_decay", &RunConfig::weight_decay, "0",
             "Decoupled weight decay of the weight matrices (RWKV-LM's rule: '.weight' tensors of rank 2)", 0, 10),
      number("optimizer.grad_clip", &RunConfig::grad_clip, "1.0", "Global gradient-norm clip (0: none)", 0, 1e9),
      number("optimizer.l2wrap", &RunConfig::l2wrap, "0",
             "RWKV's L2Wrap factor on the largest logit (the official trainer: 1e-4)", 0, 1),
      number("optimizer.lr_scale_w0", &RunConfig::lr_scale_w0, "2.0",
             "Learning-rate multiple of RWKV-7's att.w0 (the official trainer's 2x)", 0, 1e3),
      number("optimizer.mixer_lr", &RunConfig::mixer_lr, "-1",
             "Peak learning rate of the parameters in optimizer.mixer_params (RADLADS' lr2; Step 2a's 1e-4); "
             "negative: optimizer.lr",
             -1, 1e3),
      number("optimizer.mixer_lr_final", &RunConfig::mixer_lr_final, "-1",
             "Final learning rate of the mixer parameters; negative: optimizer.lr_final", -1, 1e3),
      list("optimizer.mixer_params", &RunConfig::mixer_params,
           "Globs of the parameters optimizer.mixer_lr applies to (RADLADS' sequence mixers)", "[*.self_attn.*]"),
      number("optimizer.decay_start", &RunConfig::decay_start, "0",
             "Fraction of the run (after warmup) the schedule starts moving from lr at (RADLADS' lr_wait)", 0, 1),
      number("optimizer.decay_end", &RunConfig::decay_end, "1",
             "Fraction of the run the schedule reaches lr_final at and holds from (RADLADS' lr_endpoint)", 0, 1),
      integer("eval.every", &RunConfig::eval_every, "100", "Validation every this many steps (and at the end); 0: "
                                                           "only at the end"),
      integer("eval.tokens", &RunConfig::eval_tokens, "65536", "Most validation tokens scored (windows of data.seq)"),
      integer("checkpoint.every", &RunConfig::checkpoint_every, "100",
              "A checkpoint every this many steps (and at the end); 0: only at the end"),
      integer("checkpoint.keep", &RunConfig::keep, "3", "Checkpoints kept (the newest)", 1, 1 << 20),
  };
  return keys;
}

const KeyDef* find_key(const std::string& name) {
  for (const KeyDef& k : key_defs())
    if (name == k.key.name) return &k;
  return nullptr;
}

std::string near_key(const std::string& name) {
  const std::string section = name.substr(0, name.find('.'));
  std::string s;
  for (const KeyDef& k : key_defs())
    if (std::string(k.key.name).starts_with(section + ".")) s += (s.empty() ? "" : ", ") + std::string(k.key.name);
  return s.empty() ? "sections are run, model, data, optimizer, eval, checkpoint" : "keys there: " + s;
}

std::string where_of(const std::string& source, const YAML::Node& n, const std::string& key) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? concat(source, ":", m.line + 1, ": key '", key, "'") : concat(source, ": key '", key, "'");
}

void apply(RunConfig& c, const std::string& key, const YAML::Node& value, const std::string& where) {
  const KeyDef* k = find_key(key);
  GANDER_CHECK(k, where, ": unknown key (", near_key(key), ")");
  k->set(c, value, where);
}

void walk(RunConfig& c, const YAML::Node& map, const std::string& prefix, const std::string& source) {
  for (const auto& kv : map) {
    GANDER_CHECK(kv.first.IsScalar(), source, ":", kv.first.Mark().line + 1, ": a key that is not a name");
    const std::string key = prefix + kv.first.Scalar();
    if (kv.second.IsMap()) {
      GANDER_CHECK(prefix.empty(), where_of(source, kv.first, key), ": unknown key (", near_key(key), ")");
      walk(c, kv.second, key + ".", source);
      continue;
    }
    GANDER_CHECK(!prefix.empty(), where_of(source, kv.first, key), ": a top-level key; keys sit in sections (run:, "
                                                                   "model:, data:, optimizer:, eval:, checkpoint:)");
    apply(c, key, kv.second, where_of(source, kv.first, key));
  }
}

void validate(const RunConfig& c, const std::string& source) {
  GANDER_CHECK(!c.out.empty(), source, ": run.out is required (the run's folder)");
  GANDER_CHECK(!c.data_train.empty(), source, ": data.train is required (a shard prefix from gander data build)");
  GANDER_CHECK(c.from.empty() != c.shape.empty(), source,
               ": give exactly one of model.from (a model to load) and model.shape (a fresh model)");
  GANDER_CHECK((c.steps > 0) != (c.tokens > 0), source, ": give exactly one of run.steps and run.tokens");
  GANDER_CHECK(!c.state_tuning || !c.from.empty(), source, ": model.state_tuning needs model.from (a trained model)");
  GANDER_CHECK(c.convert.empty() || !c.from.empty(), source, ": model.convert needs model.from (the Qwen2 teacher)");
  GANDER_CHECK(c.objective == "lm" || !c.teacher.empty() || !c.convert.empty(), source, ": model.objective ",
               c.objective, " needs model.teacher (or model.convert, whose model.from is the teacher)");
  GANDER_CHECK(c.objective != "lm" || c.teacher.empty(), source, ": model.teacher is given, but model.objective lm "
               "trains without a teacher (align or distill use it)");
  GANDER_CHECK(c.objective == "lm" || !c.state_tuning, source, ": model.state_tuning trains with the lm objective only");
  GANDER_CHECK(c.decay_start < c.decay_end, source, ": optimizer.decay_start ", c.decay_start,
               " must be below optimizer.decay_end ", c.decay_end);
  GANDER_CHECK((c.mixer_lr < 0) == (c.mixer_lr_final < 0), source,
               ": give both optimizer.mixer_lr and optimizer.mixer_lr_final, or neither");
  GANDER_CHECK(c.micro_batch == 0 || c.batch % c.micro_batch == 0, source, ": data.batch ", c.batch,
               " is not a multiple of data.micro_batch ", c.micro_batch);
}

}  // namespace

void apply_run_key(RunConfig& config, const std::string& key, const YAML::Node& value, const std::string& where) {
  apply(config, key, value, where);
}
int64_t yaml_integer(const YAML::Node& node, const std::string& where, int64_t lo, int64_t hi) {
  return as_integer(node, where, lo, hi);
}
double yaml_number(const YAML::Node& node, const std::string& where, double lo, double hi) {
  return as_number(node, where, lo, hi);
}
std::string run_key_value(const RunConfig& config, const std::string& key) {
  const KeyDef* k = find_key(key);
  GANDER_CHECK(k, "internal: no run key '", key, "'");
  return k->get(config);
}
void validate_run_config(const RunConfig& config, const std::string& source) { validate(config, source); }
std::string yaml_where(const std::string& source, const YAML::Node& node, const std::string& key) {
  return where_of(source, node, key);
}

int64_t RunConfig::total_steps() const {
  return steps > 0 ? steps : (tokens + tokens_per_step() - 1) / tokens_per_step();
}

std::string RunConfig::trajectory_fingerprint() const {
  std::string all;
  for (const KeyDef& k : key_defs()) {
    const std::string name = k.key.name;
    if (name.starts_with("model.") || name.starts_with("data.") || name.starts_with("optimizer.") ||
        name == "run.seed")
      all += name + "=" + k.get(*this) + "\n";
  }
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char ch : all) h = (h ^ ch) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> v;
    for (const KeyDef& k : key_defs()) v.push_back(k.key);
    return v;
  }();
  return keys;
}

RunConfig parse_run_config(const std::string& yaml, const std::string& source, const std::vector<std::string>& overrides) {
  RunConfig c;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    fail(source, ":", e.mark.line + 1, ": not valid YAML: ", e.msg);
  }
  GANDER_CHECK(root.IsMap() || root.IsNull(), source, ": expected a map of sections (run:, model:, data:, ...)");
  if (root.IsMap()) walk(c, root, "", source);
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    GANDER_CHECK(eq != std::string::npos && eq > 0, "--set '", o, "': expected key=value");
    const std::string key = o.substr(0, eq), where = concat("--set ", key);
    YAML::Node value;
    try {
      value = YAML::Load(o.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      fail(where, ": not a YAML value: ", e.msg);
    }
    apply(c, key, value, where);
  }
  validate(c, source);
  return c;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_run_config(io::read_file(path, 16 * io::kMiB, "config"), path, overrides);
}

}  // namespace gander::train
