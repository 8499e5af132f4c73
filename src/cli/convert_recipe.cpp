#include "cli/convert_recipe.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/curves.h"
#include "cli/run_progress.h"
#include "core/error.h"

namespace gander::cli {

void print_report(const radlads::ConversionReport& r) {
  std::printf("\nRADLADS conversion of %s into %s\n", r.teacher.c_str(), r.student.c_str());
  std::printf("teacher validation perplexity %.3f (%lld tokens)\n", r.teacher_perplexity, (long long)r.scored_tokens);
  std::printf("%-8s %12s %8s %10s %10s %12s %8s\n", "step", "tokens", "steps", "time", "tokens/s", "perplexity",
              "ratio");
  for (const radlads::StepOutcome& s : r.steps)
    std::printf("%-8s %12lld %8lld %10s %10.0f %12.3f %7.3fx\n", s.name.c_str(), (long long)s.tokens,
                (long long)s.steps, duration(s.seconds).c_str(), s.tokens_per_s, s.student_perplexity, s.ratio);
  if (!r.steps.empty())
    std::printf("student: %s (%.3fx the teacher's perplexity); %s in all\n", r.steps.back().model.c_str(),
                r.steps.back().ratio, duration(r.seconds).c_str());
}

radlads::ConversionReport run_recipe(const radlads::Recipe& recipe, bool resume) {
  std::unique_ptr<train::Communicator> comm = train::make_communicator();
  RunProgress progress;
  radlads::ConversionHooks h;
  h.run = progress.hooks();
  h.note = [&](const std::string& s) { progress.note(s); };
  h.begin = [&](const radlads::RecipeStep& s, size_t i) {
    progress.note(concat("== ", s.name, " (", i + 1, "/", recipe.steps.size(), "): ", s.run.objective,
                         s.run.objective == "align"     ? ", each mixer to the teacher's attention output"
                         : s.run.objective == "distill" ? ", KL(teacher || student)"
                                                        : ", next-token cross-entropy",
                         ", seq ", s.run.seq, " x batch ", s.run.batch, " =="));
  };
  h.end = [&](const radlads::StepOutcome& o) {
    progress.finish();
    progress.note(concat(o.name, " done: student validation perplexity ", o.student_perplexity, " (", o.ratio,
                         "x the teacher's), ", o.tokens, " tokens in ", duration(o.seconds)));
  };
  const bool tty = isatty(STDERR_FILENO);
  h.scoring = [tty](int64_t done, int64_t total) {
    if (!tty) return;
    std::fprintf(stderr, "\r\033[Kscoring the validation tokens: %lld/%lld", (long long)done, (long long)total);
    if (done == total) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  };
  const radlads::ConversionReport r = radlads::run_conversion(recipe, resume, *comm, h);
  progress.finish();
  if (comm->rank() == 0) {
    std::vector<std::string> metrics;
    for (const radlads::RecipeStep& s : recipe.steps) metrics.push_back(s.run.out + "/metrics.jsonl");
    const std::string picture = (std::filesystem::path(recipe.out) / "curves.png").string();
    draw_curves(metrics, picture);
    print_report(r);
    std::printf("loss curves: %s\n", picture.c_str());
  }
  return r;
}

}  // namespace gander::cli
