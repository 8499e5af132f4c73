// Running the gander command line from tests: as a shell command (output, exit code) or as a
// child process with pipes, so a test can type into it, signal it and read its peak memory.
#pragma once
#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace gander::test {

struct CliResult {
  int code = -1;         // exit status, or 128 + signal when killed
  std::string out;       // stdout and stderr together (run) or stdout (Child)
  std::string err;       // Child: stderr
  long peak_rss_kb = 0;  // Child: the child's peak resident set
};

// `gander <args>` through /bin/sh, stdin from `stdin_text` (or /dev/null).
CliResult run_cli(const std::string& args, const std::string& stdin_text = "");
// Any shell command line (environment, ulimit, mpirun around gander), output as run_cli's.
CliResult run_cli_shell(const std::string& command, const std::string& stdin_text = "");

// `gander <args...>` with pipes on all three streams.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args);
  ~Child();
  void write(const std::string& text);  // to its standard input
  void close_stdin();
  void signal(int sig);
  // Reads standard output until `fragment` appears or `seconds` pass; true if it appeared.
  bool wait_for(const std::string& fragment, double seconds);
  CliResult finish(double seconds = 60);  // closes stdin, waits (kills after `seconds`)
  const std::string& out() const { return out_; }

 private:
  void pump(double seconds);
  pid_t pid_ = -1;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
};

}  // namespace gander::test
