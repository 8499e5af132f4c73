#include "radlads/recipe.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>

#include "core/error.h"
#include "io/read_file.h"

namespace gander::radlads {

namespace {

namespace fs = std::filesystem;

// A step section's keys: the run key each one sets.
struct StepKey {
  const char* name;
  const char* run_key;  // nullptr: the recipe's own (skip, gate)
  const char* type;
  const char* doc;
};
constexpr StepKey kStepKeys[] = {
    {"skip", nullptr, "boolean", "Leave the step out (step2a is left out unless skip: false)"},
    {"gate", nullptr, "number", "Stop with an error when the student's validation perplexity is more than this "
                                "multiple of the teacher's after the step (0: no gate)"},
    {"tokens", "run.tokens", "integer", "Training tokens of the step"},
    {"steps", "run.steps", "integer", "Or its optimizer steps"},
    {"seq", "data.seq", "integer", "Tokens per sequence"},
    {"batch", "data.batch", "integer", "Sequences per optimizer step (over all processes)"},
    {"micro_batch", "data.micro_batch", "integer", "Sequences per forward/backward pass (0: batch)"},
    {"schedule", "optimizer.schedule", "string", "constant, linear, cosine or quarter_cosine"},
    {"lr", "optimizer.lr", "number", "Peak learning rate"},
    {"lr_final", "optimizer.lr_final", "number", "Final learning rate"},
    {"mixer_lr", "optimizer.mixer_lr", "number", "The mixers' peak learning rate (negative: lr)"},
    {"mixer_lr_final", "optimizer.mixer_lr_final", "number", "The mixers' final learning rate (negative: lr_final)"},
    {"decay_start", "optimizer.decay_start", "number", "Fraction of the step the schedule starts decaying at"},
    {"decay_end", "optimizer.decay_end", "number", "Fraction of the step it reaches its final rate at"},
    {"warmup_steps", "optimizer.warmup_steps", "integer", "Steps of linear warmup"},
    {"train", "model.train", "list of strings", "Globs of the parameters that train (step1: the mixers)"},
    {"freeze", "model.freeze", "list of strings", "Globs of the parameters kept fixed"},
};

const StepKey* find_step_key(const std::string& name) {
  for (const StepKey& k : kStepKeys)
    if (name == k.name) return &k;
  return nullptr;
}

struct StepDefaults {
  const char* name;
  const char* objective;
  bool skip;
  std::vector<std::pair<const char*, const char*>> keys;  // run key = value (YAML)
};
// The paper's recipe for Qwen2.5-7B (spec radlads.md §1, §6.2-6.5).
const std::vector<StepDefaults>& step_defaults() {
  static const std::vector<StepDefaults> d = {
      {"step1", "align", false,
       {{"run.tokens", "100000000"}, {"data.seq", "512"}, {"data.batch", "32"},
        {"optimizer.schedule", "quarter_cosine"}, {"optimizer.lr", "1e-3"}, {"optimizer.lr_final", "1e-5"},
        {"model.train", "[\"*.self_attn.*\"]"}}},
      {"step2", "distill", false,
       {{"run.tokens", "500000000"}, {"data.seq", "512"}, {"data.batch", "96"}, {"optimizer.schedule", "constant"},
        {"optimizer.lr", "1e-5"}, {"optimizer.lr_final", "1e-5"}}},
      {"step2a", "distill", true,
       {{"run.tokens", "600000000"}, {"data.seq", "4096"}, {"data.batch", "32"},
        {"optimizer.schedule", "quarter_cosine"}, {"optimizer.lr", "1e-5"}, {"optimizer.lr_final", "1e-5"},
        {"optimizer.mixer_lr", "1e-4"}, {"optimizer.mixer_lr_final", "1e-5"}, {"optimizer.decay_start", "0.833"},
        {"optimizer.decay_end", "0.875"}}},
      {"step3", "lm", false,
       {{"run.tokens", "100000000"}, {"data.seq", "16384"}, {"data.batch", "96"}, {"optimizer.schedule", "constant"},
        {"optimizer.lr", "1e-5"}, {"optimizer.lr_final", "1e-5"}}},
  };
  return d;
}
// Every step's (spec §6.1): Adam (0.9, 0.95, 1e-8), no weight decay, clip 1.0, 50 warmup steps from 1 %.
constexpr std::pair<const char*, const char*> kCommon[] = {
    {"optimizer.beta1", "0.9"},        {"optimizer.beta2", "0.95"},      {"optimizer.eps", "1e-8"},
    {"optimizer.weight_decay", "0"},   {"optimizer.grad_clip", "1.0"},   {"optimizer.warmup_steps", "50"},
    {"optimizer.warmup_from", "0.01"}, {"optimizer.lr_scale_w0", "1.0"},
};

constexpr const char* kSharedSections[] = {"data", "optimizer", "eval", "checkpoint"};
constexpr const char* kTopScalars[] = {"teacher", "student", "out", "seed", "precision"};

bool is_step(const std::string& s) {
  for (const StepDefaults& d : step_defaults())
    if (s == d.name) return true;
  return false;
}
bool is_shared(const std::string& s) {
  for (const char* n : kSharedSections)
    if (s == n) return true;
  return false;
}
bool is_top_scalar(const std::string& s) {
  for (const char* n : kTopScalars)
    if (s == n) return true;
  return false;
}

std::string step_key_list() {
  std::string s;
  for (const StepKey& k : kStepKeys) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

std::string scalar_of(const YAML::Node& n, const std::string& where) {
  GANDER_CHECK(n.IsScalar(), where, ": expected a value, got ", n.IsMap() ? "a map" : n.IsSequence() ? "a list" : "nothing");
  return n.Scalar();
}

int64_t integer_of(const YAML::Node& n, const std::string& where, int64_t lo) {
  return train::yaml_integer(n, where, lo, int64_t(1) << 50);
}

// Applies --set overrides to the parsed tree: "teacher=...", "step2.lr=1e-4", "optimizer.beta2=0.99".
void apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides) {
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    GANDER_CHECK(eq != std::string::npos && eq > 0, "--set '", o, "': expected key=value");
    const std::string key = o.substr(0, eq);
    YAML::Node value;
    try {
      value = YAML::Load(o.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      fail("--set ", key, ": not a YAML value: ", e.msg);
    }
    const size_t dot = key.find('.');
    if (dot == std::string::npos) {
      root[key] = value;
    } else {
      const std::string section = key.substr(0, dot), name = key.substr(dot + 1);
      GANDER_CHECK(name.find('.') == std::string::npos, "--set ", key, ": expected SECTION.KEY or KEY");
      if (!root[section] || !root[section].IsMap()) root[section] = YAML::Node(YAML::NodeType::Map);
      root[section][name] = value;
    }
  }
}

}  // namespace

std::vector<RecipeKey> recipe_keys() {
  std::vector<RecipeKey> v = {
      {"teacher", "string", "(required)", "The Qwen2 teacher: a Hugging Face folder"},
      {"student", "string", "rad_rwkv7",
       "The student: rad_rwkv7 (the paper's balanced form), rad_rwkv7:G (GroupNorm), rad_rwkv6 (GLA), ,A<n> keeps the last n "
       "layers as attention"},
      {"out", "string", "(required)", "The conversion's folder: step1/, step2/, ..., report.json, curves.png"},
      {"seed", "integer", "0", "Seed of the fresh mixer parameters and of the data walk"},
      {"precision", "string", "f32", "Matrix products: f32 or bf16"},
      {"data.*", "", "", "Any data key of gander train (train, valid, tokenizer, valid_tokens, seq, ...) for every step"},
      {"optimizer.*", "", "",
       "Any optimizer key of gander train, for every step (here beta2 0.95, weight_decay 0, warmup_steps 50, "
       "lr_scale_w0 1 by default: the RADLADS code's)"},
      {"eval.*", "", "", "eval.every, eval.tokens of every step's runs"},
      {"checkpoint.*", "", "", "checkpoint.every, checkpoint.keep of every step's runs"},
      {"report.ctx", "integer", "512", "Window of the report's validation perplexities"},
      {"report.tokens", "integer", "262144", "Most validation tokens the report scores (0: all)"},
  };
  return v;
}

std::vector<StepKeyDoc> recipe_step_keys() {
  // The defaults as a recipe that names no step key gets them (every step on).
  const Recipe r = parse_recipe("teacher: T\nout: O\ndata: {train: D, valid: V}\nstep2a: {skip: false}\n", "defaults");
  std::vector<StepKeyDoc> v;
  for (const StepKey& k : kStepKeys) {
    StepKeyDoc d{k.name, k.type, {}, k.doc};
    for (size_t i = 0; i < r.steps.size(); ++i) {
      const std::string& step = r.steps[i].name;
      if (k.name == std::string("skip")) d.defaults.push_back(step == "step2a" ? "true" : "false");
      else if (k.name == std::string("gate")) d.defaults.push_back("0");
      else d.defaults.push_back(train::run_key_value(r.steps[i].run, k.run_key));
    }
    v.push_back(std::move(d));
  }
  return v;
}

Recipe parse_recipe(const std::string& yaml, const std::string& source, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    fail(source, ":", e.mark.line + 1, ": not valid YAML: ", e.msg);
  }
  GANDER_CHECK(root.IsMap(), source, ": expected a RADLADS recipe (teacher:, out:, data:, step1:, ...)");
  apply_overrides(root, overrides);

  Recipe r;
  r.source = source;
  r.student = "rad_rwkv7";
  uint64_t seed = 0;
  std::string precision = "f32";
  // Top level: scalars, shared sections, steps, report. Anything else is an error here.
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const std::string where = train::yaml_where(source, kv.first, key);
    if (is_top_scalar(key)) {
      const std::string v = scalar_of(kv.second, where);
      if (key == "teacher") r.teacher = v;
      else if (key == "student") r.student = v;
      else if (key == "out") r.out = v;
      else if (key == "seed") seed = uint64_t(integer_of(kv.second, where, 0));
      else if (key == "precision") precision = v;
      continue;
    }
    GANDER_CHECK(is_shared(key) || is_step(key) || key == "report", where,
                 ": unknown key (a recipe holds teacher, student, out, seed, precision, data, optimizer, eval, "
                 "checkpoint, report, step1, step2, step2a, step3)");
    GANDER_CHECK(kv.second.IsMap() || kv.second.IsNull(), where, ": expected a section (a map of keys)");
  }
  GANDER_CHECK(!r.teacher.empty(), source, ": teacher is required (the Qwen2 teacher's Hugging Face folder)");
  GANDER_CHECK(!r.out.empty(), source, ": out is required (the conversion's folder)");
  GANDER_CHECK(r.student.starts_with("rad_rwkv7") || r.student.starts_with("rad_rwkv6"), source, ": student '",
               r.student, "': the students gander converts to are rad_rwkv7[:G][,A<n>] and rad_rwkv6[:A<n>]");
  if (const YAML::Node rep = root["report"]; rep && rep.IsMap())
    for (const auto& kv : rep) {
      const std::string key = kv.first.Scalar(), where = train::yaml_where(source, kv.first, "report." + key);
      if (key == "ctx") r.report_ctx = integer_of(kv.second, where, 1);
      else if (key == "tokens") r.report_tokens = integer_of(kv.second, where, 0);
      else fail(where, ": unknown key (report holds ctx, tokens)");
    }

  std::string previous;  // the folder of the last step's student
  for (const StepDefaults& d : step_defaults()) {
    const YAML::Node own = root[d.name];
    train::RunConfig c;
    auto set = [&](const std::string& key, const YAML::Node& value, const std::string& where) {
      train::apply_run_key(c, key, value, where);
    };
    for (const auto& [k, v] : kCommon) set(k, YAML::Load(v), concat("internal default ", k));
    for (const auto& [k, v] : d.keys) set(k, YAML::Load(v), concat("internal default ", k));
    c.seed = seed;
    set("model.precision", YAML::Node(precision), concat(source, ": key 'precision'"));
    for (const char* section : kSharedSections)
      if (const YAML::Node n = root[section]; n && n.IsMap())
        for (const auto& kv : n) {
          const std::string key = concat(section, ".", kv.first.Scalar());
          set(key, kv.second, train::yaml_where(source, kv.first, key));
        }
    bool skip = d.skip;
    double gate = 0;
    bool gave_tokens = false, gave_steps = false;
    if (own && own.IsMap())
      for (const auto& kv : own) {
        const std::string name = kv.first.Scalar(), key = concat(d.name, ".", name);
        const std::string where = train::yaml_where(source, kv.first, key);
        const StepKey* k = find_step_key(name);
        GANDER_CHECK(k, where, ": unknown key (a step holds ", step_key_list(), ")");
        if (name == "skip") {
          const std::string v = scalar_of(kv.second, where);
          GANDER_CHECK(v == "true" || v == "false", where, ": expected true or false, got '", v, "'");
          skip = v == "true";
        } else if (name == "gate") {
          gate = train::yaml_number(kv.second, where, 0, 1e9);
          GANDER_CHECK(gate == 0 || gate >= 1, where, ": expected 0 (no gate) or a ratio of at least 1, got ", gate);
        } else {
          gave_tokens = gave_tokens || name == "tokens";
          gave_steps = gave_steps || name == "steps";
          set(k->run_key, kv.second, where);
        }
      }
    if (skip) continue;
    if (gave_steps && !gave_tokens) c.tokens = 0;  // steps replaces the default token budget
    if (gave_tokens && !gave_steps) c.steps = 0;
    c.out = (fs::path(r.out) / d.name).string();
    c.objective = d.objective;
    if (previous.empty()) {  // the first step builds the student from the teacher
      c.from = r.teacher;
      c.convert = r.student;
    } else {
      c.from = previous;
    }
    if (c.objective != "lm") c.teacher = r.teacher;
    train::validate_run_config(c, concat(source, " (", d.name, ")"));
    previous = (fs::path(c.out) / "final").string();
    r.steps.push_back({d.name, std::move(c), gate});
  }
  GANDER_CHECK(!r.steps.empty(), source, ": every step is skipped: nothing to run");
  r.data_train = r.steps.front().run.data_train;
  r.data_valid = r.steps.front().run.data_valid;
  r.valid_tokens = r.steps.front().run.valid_tokens;
  return r;
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_recipe(io::read_file(path, 16 * io::kMiB, "recipe"), path, overrides);
}

}  // namespace gander::radlads
