#include "radlads/conversion.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.h"
#include "core/timer.h"
#include "data/token_shard.h"
#include "data/windows.h"
#include "eval/perplexity.h"
#include "io/atomic_file.h"
#include "io/read_file.h"
#include "models/registry.h"
#include "models/runner.h"
#include "train/run_checkpoint.h"

namespace gander::radlads {

namespace {

namespace fs = std::filesystem;

// The median of the tokens/s a step's metrics.jsonl holds (the steps of this and earlier sessions).
double median_tokens_per_s(const std::string& metrics) {
  std::ifstream in(metrics);
  std::vector<double> v;
  std::string line;
  while (std::getline(in, line)) {
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      if (j.contains("tokens_per_s")) v.push_back(j["tokens_per_s"].get<double>());
    } catch (const std::exception&) {
      break;
    }
  }
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The validation tokens the report scores: the recipe's validation shard, else the held-out
// tail of the training shard (the runs' own split), at most report_tokens + 1 of them.
// The shards are checked against the teacher's tokenizer here, before the teacher is scored.
std::vector<int32_t> validation_tokens(const Recipe& r, int64_t vocab) {
  std::string tok_path = r.steps.front().run.tokenizer;
  std::error_code ec;
  if (tok_path.empty() && fs::exists(fs::path(r.teacher) / "tokenizer.json", ec))
    tok_path = (fs::path(r.teacher) / "tokenizer.json").string();
  const std::unique_ptr<Tokenizer> tok = tok_path.empty() ? nullptr : load_tokenizer(tok_path);
  const data::TokenShard checked(r.data_train, tok.get(), vocab);  // the training shard too
  const bool own = !r.data_valid.empty();
  const data::TokenShard shard(own ? r.data_valid : r.data_train, tok.get(), vocab);
  int64_t from = 0, have = shard.tokens();
  if (!own) {
    GANDER_CHECK(r.valid_tokens > 0, r.source,
                 ": the report needs validation data: give data.valid (a shard) or data.valid_tokens");
    const data::WindowSampler s(shard.tokens(), r.report_ctx, r.valid_tokens, 0);
    from = s.train_tokens();
    have = shard.tokens() - from;
  }
  const int64_t take = r.report_tokens > 0 ? std::min(have, r.report_tokens + 1) : have;
  GANDER_CHECK(take >= 2, r.source, ": the validation data holds ", have, " tokens, too few to score");
  std::vector<int32_t> ids(static_cast<size_t>(take));
  shard.read(from, ids);
  return ids;
}

double score(const Runner& m, std::span<const int32_t> ids, const Recipe& r, const ConversionHooks& hooks,
             int64_t& scored) {
  eval::PerplexityOptions po;
  po.ctx = r.report_ctx;
  po.batch = 4;
  po.run = m.options();
  po.run.precision = ops::Precision::F32;
  const eval::PerplexityResult res = eval::perplexity(m.shared_model(), ids, po, nullptr, hooks.scoring);
  scored = res.tokens;
  return res.perplexity();
}

void write_report(const std::string& out, const ConversionReport& r) {
  io::write_file((fs::path(out) / "report.json").string(), report_json(r));
}

}  // namespace

std::string report_json(const ConversionReport& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const StepOutcome& s : r.steps)
    steps.push_back({{"name", s.name},
                     {"model", s.model},
                     {"steps", s.steps},
                     {"tokens", s.tokens},
                     {"seconds", s.seconds},
                     {"tokens_per_s", s.tokens_per_s},
                     {"student_perplexity", s.student_perplexity},
                     {"ratio", s.ratio}});
  const nlohmann::json j = {{"teacher", r.teacher},
                            {"student", r.student},
                            {"teacher_perplexity", r.teacher_perplexity},
                            {"scored_tokens", r.scored_tokens},
                            {"seconds", r.seconds},
                            {"steps", steps}};
  return j.dump(2) + "\n";
}

ConversionReport read_report(const std::string& path) {
  ConversionReport r;
  try {
    const nlohmann::json j = nlohmann::json::parse(io::read_file(path, 16 * io::kMiB, "conversion report"));
    r.teacher = j.at("teacher").get<std::string>();
    r.student = j.at("student").get<std::string>();
    r.teacher_perplexity = j.at("teacher_perplexity").get<double>();
    r.scored_tokens = j.at("scored_tokens").get<int64_t>();
    r.seconds = j.at("seconds").get<double>();
    for (const nlohmann::json& s : j.at("steps"))
      r.steps.push_back({s.at("name").get<std::string>(), s.at("model").get<std::string>(), s.at("steps").get<int64_t>(),
                         s.at("tokens").get<int64_t>(), s.at("seconds").get<double>(),
                         s.at("tokens_per_s").get<double>(), s.at("student_perplexity").get<double>(),
                         s.at("ratio").get<double>()});
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": not a conversion report of gander convert: ", e.what());
  }
  return r;
}

ConversionReport run_conversion(const Recipe& recipe, bool resume, train::Communicator& comm,
                                const ConversionHooks& hooks) {
  const bool lead = comm.rank() == 0;
  auto note = [&](const std::string& s) {
    if (lead && hooks.note) hooks.note(s);
  };
  const std::string report_path = (fs::path(recipe.out) / "report.json").string();
  std::error_code ec;
  ConversionReport report;
  if (resume) {
    GANDER_CHECK(fs::is_directory(recipe.out, ec), recipe.out, ": --resume, but there is no conversion here");
    if (fs::exists(report_path, ec)) report = read_report(report_path);
    // A step whose student was removed is to be run again, with every step after it.
    for (size_t i = 0; i < report.steps.size(); ++i)
      if (!fs::exists(report.steps[i].model, ec)) {
        report.steps.resize(i);
        break;
      }
    GANDER_CHECK(report.teacher.empty() || (report.teacher == recipe.teacher && report.student == recipe.student),
                 report_path, ": this conversion is of ", report.teacher, " into ", report.student, ", not of ",
                 recipe.teacher, " into ", recipe.student, " (another recipe's folder?)");
    for (size_t i = 0; i < report.steps.size(); ++i)
      GANDER_CHECK(i < recipe.steps.size() && report.steps[i].name == recipe.steps[i].name, report_path,
                   ": its step ", report.steps[i].name, " is not the recipe's step ", i + 1,
                   " (the recipe's steps changed; convert into another out)");
    // Only the step that was running may have a folder: a later one would continue from a student
    // the redone steps no longer lead to.
    for (size_t i = report.steps.size() + 1; i < recipe.steps.size(); ++i)
      GANDER_CHECK(!fs::exists(recipe.steps[i].run.out, ec), recipe.steps[i].run.out, ": comes after ",
                   recipe.steps[report.steps.size()].name, ", which runs again; remove it to --resume");
  } else {
    bool used = fs::exists(report_path, ec);
    for (const RecipeStep& s : recipe.steps) used = used || fs::exists(s.run.out, ec);
    GANDER_CHECK(!used, recipe.out, ": holds a conversion already (report.json or step folders); --resume "
                 "continues it, or give another out");
  }
  report.teacher = recipe.teacher;
  report.student = recipe.student;

  // The bar: the teacher's perplexity on the report's validation tokens (once per conversion).
  std::vector<int32_t> valid;
  if (lead) {
    const std::unique_ptr<Runner> teacher = models::load_model(recipe.teacher, {});
    const std::string arch = teacher->shared_model()->info().architecture;
    GANDER_CHECK(arch == "qwen2", recipe.teacher, ": the teacher is a ", arch,
                 " model; RADLADS converts Qwen2-family teachers");
    valid = validation_tokens(recipe, teacher->shared_model()->vocab());
    io::make_output_folder(recipe.out, "out");
    if (report.teacher_perplexity <= 0) {
      const double t0 = now_seconds();
      report.teacher_perplexity = score(*teacher, valid, recipe, hooks, report.scored_tokens);
      report.seconds += now_seconds() - t0;
      write_report(recipe.out, report);
    }
    note(concat("teacher ", recipe.teacher, ": validation perplexity ", report.teacher_perplexity, " over ",
                report.scored_tokens, " tokens"));
  }
  comm.barrier();

  for (size_t i = 0; i < recipe.steps.size(); ++i) {
    const RecipeStep& step = recipe.steps[i];
    if (i < report.steps.size()) {
      note(concat(step.name, ": done (student perplexity ", report.steps[i].student_perplexity, ", ",
                  report.steps[i].ratio, "x the teacher's)"));
    } else {
      if (hooks.begin && lead) hooks.begin(step, i);
      // A step folder with a checkpoint continues; one a crash left before its first is redone.
      bool go_on = false;
      if (resume && fs::exists(step.run.out, ec)) {
        go_on = !train::latest_run_checkpoint(step.run.out).empty();
        if (!go_on && lead) {
          note(concat(step.run.out, ": no checkpoint yet; the step starts again"));
          fs::remove_all(step.run.out, ec);
          GANDER_CHECK(!ec, step.run.out, ": cannot remove: ", ec.message());
        }
        comm.barrier();
      }
      const double t0 = now_seconds();
      const train::RunResult run = train::run_training(step.run, go_on, comm, hooks.run);
      StepOutcome o;
      o.name = step.name;
      o.model = run.output;
      o.steps = run.steps;
      o.tokens = run.tokens;
      o.seconds = run.seconds;
      if (lead) {
        o.tokens_per_s = median_tokens_per_s((fs::path(step.run.out) / "metrics.jsonl").string());
        int64_t scored = 0;
        o.student_perplexity = score(*models::load_model(run.output, {}), valid, recipe, hooks, scored);
        o.ratio = o.student_perplexity / report.teacher_perplexity;
        report.seconds += now_seconds() - t0;
        report.steps.push_back(o);
        write_report(recipe.out, report);
        if (hooks.end) hooks.end(o);
      }
      comm.barrier();
    }
    // Every process learns the gate's verdict, so that all stop together.
    std::string ratio = lead ? concat(report.steps[i].ratio) : std::string();
    comm.broadcast(ratio, 0);
    if (step.gate > 0 && std::stod(ratio) > step.gate)
      fail(step.name, " did not pass its gate: the student's validation perplexity is ", ratio, "x the teacher's, above ",
           step.gate, "x (", step.run.out, "/final holds it; to redo the step, remove ", step.run.out,
           " and the later steps' folders, change the recipe and --resume)");
  }
  return report;
}

}  // namespace gander::radlads
