// Standard input and output for the subcommands: inputs are bounded (a FIFO or /dev/zero must not
// be read until memory runs out) and every write to standard output is checked (a full disk or a
// closed pipe is an error, not a silent exit 0).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gander::cli {

inline constexpr uint64_t kMaxTextInput = uint64_t(1) << 30;  // prompts, texts to tokenize: 1 GiB

// A regular file of at most `limit` bytes, or standard input when path is "-".
std::string read_input_file(const std::string& path, const char* what, uint64_t limit = kMaxTextInput);
// All of standard input (at most `limit` bytes). Refuses a terminal: nobody is typing a prompt
// that ends with Ctrl-D; `what` says what was expected there.
std::string read_stdin_text(const char* what, uint64_t limit = kMaxTextInput);
// Parses a JSON array of integers; errors name the source.
std::vector<int32_t> read_id_array(const std::string& text, const std::string& source);

// Checked writes to standard output.
class StdoutWriter {
 public:
  void write(const std::string& s);
  void flush();
  char last_char() const { return last_; }

 private:
  char last_ = '\n';  // nothing written yet counts as ending a line
};
// Throws "standard output: write failed: <reason>" if stdout has a pending error (call at exit).
void check_stdout();

}  // namespace gander::cli
