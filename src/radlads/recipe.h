// A RADLADS conversion recipe (`gander convert RECIPE.yaml [--set key=value ...]`): the teacher,
// the student's form, the data, and the steps of the protocol (spec radlads.md §1, §6), each one
// a training run (train/run.h) whose keys the recipe fills in:
//   step1   align    only the mixers (model.layers.*.self_attn.*), the student built from the teacher
//   step2   distill  every parameter, KL(teacher || student)
//   step2a  distill  at a longer context, the mixers at their own learning rate (off by default)
//   step3   lm       plain next-token cross-entropy at a longer context
// A step's defaults are the paper's (Qwen2.5-7B: 100M / 500M / 600M / 100M tokens, ...); the
// shared sections (data, optimizer, eval, checkpoint) set every step, a step's own section that
// step. Each step may end with a gate: the most student/teacher validation-perplexity ratio it
// may leave. Every key is checked, with its file and line, before anything runs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/run_config.h"

namespace gander::radlads {

struct RecipeStep {
  std::string name;      // step1, step2, step2a, step3
  train::RunConfig run;  // complete: out = OUT/<name>, from, teacher, convert, objective
  double gate = 0;       // the most student/teacher perplexity ratio after the step; 0: none
};

struct Recipe {
  std::string source;   // the file, for messages
  std::string teacher;  // a Qwen2 Hugging Face folder
  std::string student;  // rad_rwkv7[:G][,A<n>]
  std::string out;      // the conversion's folder: a folder per step, report.json, curves.png
  std::vector<RecipeStep> steps;  // those that run, in order
  // The report's validation perplexities (teacher once, the student after every step): windows
  // of report_ctx tokens over at most report_tokens tokens of the validation data.
  int64_t report_ctx = 512, report_tokens = 262144;
  std::string data_valid, data_train;  // the validation shard, else the held-out tail of data.train
  int64_t valid_tokens = 0;
};

// What a recipe may hold, for `gander convert --keys` and docs/radlads.md: the top-level keys
// and sections, and the keys of a step section with each step's default.
struct RecipeKey {
  std::string name, type, default_value, doc;
};
std::vector<RecipeKey> recipe_keys();
struct StepKeyDoc {
  std::string name, type;
  std::vector<std::string> defaults;  // step1, step2, step2a, step3
  std::string doc;
};
std::vector<StepKeyDoc> recipe_step_keys();

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides);
// From YAML text (tests); `source` names it in errors.
Recipe parse_recipe(const std::string& yaml, const std::string& source, const std::vector<std::string>& overrides = {});

}  // namespace gander::radlads
