#include "cli/run_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace gander::cli {

std::string duration(double s) {
  if (!(s >= 0) || s > 1e8) return "?";
  const long long t = (long long)(s + 0.5);
  char b[32];
  if (t >= 3600) std::snprintf(b, sizeof b, "%lldh%02lldm", t / 3600, t / 60 % 60);
  else if (t >= 60) std::snprintf(b, sizeof b, "%lldm%02llds", t / 60, t % 60);
  else std::snprintf(b, sizeof b, "%llds", t);
  return b;
}

RunProgress::RunProgress() : tty_(isatty(STDERR_FILENO)) {}

void RunProgress::note(const std::string& s) {
  std::fprintf(stderr, "%s%s\n", drawn_ ? "\r\033[K" : "", s.c_str());
  drawn_ = false;
}

void RunProgress::finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

train::RunHooks RunProgress::hooks() {
  train::RunHooks h;
  h.note = [this](const std::string& s) { note(s); };
  h.step = [this](const train::StepReport& r) {
    const int64_t every = std::max<int64_t>(1, r.total_steps / 20);
    if (!tty_ && r.step % every != 0 && r.step != r.total_steps) return;
    std::fprintf(stderr, "%sstep %lld/%lld  %.0f tok/s  loss %.4f  lr %.3g  |g| %.3g  %s elapsed, ETA %s%s",
                 tty_ ? "\r\033[K" : "", (long long)r.step, (long long)r.total_steps, r.tokens_per_s, r.loss, r.lr,
                 r.grad_norm, duration(r.seconds).c_str(), duration(r.eta_seconds).c_str(), tty_ ? "" : "\n");
    std::fflush(stderr);
    drawn_ = tty_;
  };
  h.eval = [this](const train::EvalReport& e) {
    note(concat("validation at step ", e.step, " (", e.tokens, " tokens): loss ", e.loss, ", perplexity ",
                e.perplexity, e.bits_per_byte > 0 ? concat(", ", e.bits_per_byte, " bits per byte") : ""));
  };
  return h;
}

}  // namespace gander::cli
