// A prefill progress line on standard error, shown only on a terminal and only for prompts long
// enough to make someone wait ("prefill 2048/8192 tokens (25%)"); cleared when done.
#pragma once
#include <cstdint>
#include <functional>

namespace gander::cli {

class PrefillProgress {
 public:
  PrefillProgress();
  std::function<void(int64_t, int64_t)> callback();  // empty when stderr is not a terminal
  void clear();                                       // erases the line if one was drawn
  // Whether a prefill of n tokens (fed in slices of `slice`) draws a line on the terminal that
  // standard output also writes to: then text echoed before it would be overwritten.
  bool shares_terminal_with_stdout(int64_t n, int64_t slice) const;

 private:
  bool tty_, drawn_ = false;
};

}  // namespace gander::cli
