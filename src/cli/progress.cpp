#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace gander::cli {

PrefillProgress::PrefillProgress() : tty_(isatty(STDERR_FILENO)) {}

std::function<void(int64_t, int64_t)> PrefillProgress::callback() {
  if (!tty_) return {};
  return [this](int64_t done, int64_t total) {
    std::fprintf(stderr, "\r\033[2Kprefill %lld/%lld tokens (%lld%%)", (long long)done, (long long)total,
                 (long long)(100 * done / total));
    std::fflush(stderr);
    drawn_ = true;
  };
}

bool PrefillProgress::shares_terminal_with_stdout(int64_t n, int64_t slice) const {
  return tty_ && n > slice && isatty(STDOUT_FILENO);
}

void PrefillProgress::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[2K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace gander::cli
