#include "cli_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "testdata.h"

namespace gander::test {

CliResult run_cli(const std::string& args, const std::string& stdin_text) {
  return run_cli_shell(std::string(GANDER_CLI_PATH) + " " + args, stdin_text);
}

CliResult run_cli_shell(const std::string& command, const std::string& stdin_text) {
  // Braces: redirections inside the command (">/dev/full", "& ...; wait") apply after the group's.
  std::string cmd = "{ " + command + "; } 2>&1";
  if (!stdin_text.empty()) {
    const std::string in = temp_path("stdin.txt");
    std::ofstream(in) << stdin_text;
    cmd += " < " + in;
  } else {
    cmd += " < /dev/null";
  }
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Child::Child(const std::vector<std::string>& args) {
  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0), dup2(out[1], 1), dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    std::vector<char*> argv{const_cast<char*>(GANDER_CLI_PATH)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(GANDER_CLI_PATH, argv.data());
    _exit(127);
  }
  close(in[0]), close(out[1]), close(err[1]);
  in_ = in[1], out_fd_ = out[0], err_fd_ = err[0];
  ::signal(SIGPIPE, SIG_IGN);  // (the test process: a child that exits early must not kill it)
}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  for (int fd : {in_, out_fd_, err_fd_})
    if (fd >= 0) close(fd);
}

void Child::signal(int sig) { kill(pid_, sig); }

void Child::write(const std::string& text) {
  if (in_ >= 0) (void)::write(in_, text.data(), text.size());
}

void Child::close_stdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

void Child::pump(double seconds) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, int(seconds * 1000)) <= 0) return;
  char buf[4096];
  for (int i = 0; i < 2; ++i)
    if (fds[i].revents & (POLLIN | POLLHUP)) {
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) (i == 0 ? out_ : err_).append(buf, size_t(n));
    }
}

bool Child::wait_for(const std::string& fragment, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (out_.find(fragment) == std::string::npos) {
    if (std::chrono::steady_clock::now() > end) return false;
    pump(0.05);
  }
  return true;
}

CliResult Child::finish(double seconds) {
  close_stdin();
  CliResult r;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  rusage ru{};
  while (true) {
    pump(0.02);
    const pid_t w = wait4(pid_, &status, WNOHANG, &ru);
    if (w == pid_) break;
    if (std::chrono::steady_clock::now() > end) {
      kill(pid_, SIGKILL);
      wait4(pid_, &status, 0, &ru);
      break;
    }
  }
  for (int i = 0; i < 20; ++i) pump(0.01);  // what was left in the pipes
  pid_ = -1;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = out_;
  r.err = err_;
  r.peak_rss_kb = ru.ru_maxrss;
  return r;
}

}  // namespace gander::test
