// Reading the lines of an interactive session. On a terminal: line editing and history with
// libedit (arrow keys, Ctrl-A/E, Ctrl-R search), a line ending in a backslash continued on the next
// with a "... " prompt, and Ctrl-C at the prompt ending the session like Ctrl-D (the terminal is
// restored, a newline printed). Otherwise (a pipe, a file): plain lines, same continuation rule.
#pragma once
#include <memory>
#include <optional>
#include <string>

namespace gander::cli {

class LineReader {
 public:
  explicit LineReader(std::string prompt, std::string continuation = "... ");
  ~LineReader();
  // The next message (continued lines joined with newlines), or nothing at the end of input or
  // on Ctrl-C at the prompt.
  std::optional<std::string> read();
  bool interactive() const;
  struct Editor;  // the libedit session (line_reader.cpp)

 private:
  std::optional<std::string> read_line(bool first);
  std::unique_ptr<Editor> ed_;  // null when standard input is not a terminal
  std::string prompt_, continuation_;
};

}  // namespace gander::cli
