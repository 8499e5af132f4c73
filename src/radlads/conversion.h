// Runs a RADLADS recipe (radlads/recipe.h): the steps in order, each a training run in
// OUT/<step>/ that starts from the previous step's student, then the report's measurements:
// the teacher's validation perplexity (once) and the student's after every step, their ratio,
// tokens, steps, wall time and tokens/s per step, kept in OUT/report.json (written atomically
// after every step). A step's gate stops the conversion when the ratio is above it.
//
// Resuming (`gander convert RECIPE.yaml --resume`): the steps report.json holds are done; the
// next one continues from its newest checkpoint (a step folder that has no checkpoint yet is
// started again), and the steps after it run as usual.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "radlads/recipe.h"
#include "train/comm.h"
#include "train/run.h"

namespace gander::radlads {

struct StepOutcome {
  std::string name, model;  // model: OUT/<step>/final
  int64_t steps = 0, tokens = 0;
  double seconds = 0;              // of the training run (wall)
  double tokens_per_s = 0;         // median over its steps
  double student_perplexity = 0, ratio = 0;
};

struct ConversionReport {
  std::string teacher, student;
  double teacher_perplexity = 0;
  int64_t scored_tokens = 0;       // of each perplexity
  std::vector<StepOutcome> steps;  // those done, in order
  double seconds = 0;              // every step's training and measuring, over all sessions
};

struct ConversionHooks {
  train::RunHooks run;                                         // inside each step's run
  std::function<void(const RecipeStep&, size_t index)> begin;  // before a step (index in recipe.steps)
  std::function<void(const StepOutcome&)> end;                 // after it is measured
  std::function<void(const std::string&)> note;                // the teacher's score, skipped steps
  std::function<void(int64_t done, int64_t total)> scoring;    // progress of a perplexity
};

ConversionReport run_conversion(const Recipe& recipe, bool resume, train::Communicator& comm,
                                const ConversionHooks& hooks = {});

// OUT/report.json as JSON text, and back (for --resume).
std::string report_json(const ConversionReport& r);
ConversionReport read_report(const std::string& path);

}  // namespace gander::radlads
