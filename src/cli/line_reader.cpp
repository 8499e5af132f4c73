#include "cli/line_reader.h"

#include <histedit.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstring>
#include <iostream>

#include "core/signals.h"

namespace gander::cli {

struct LineReader::Editor {
  EditLine* el = nullptr;
  History* hist = nullptr;
  const char* prompt = "";
  bool interrupted = false;
};

namespace {
LineReader::Editor* editor_of(EditLine* el) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  return static_cast<LineReader::Editor*>(data);
}

const char* prompt_of(EditLine* el) { return editor_of(el)->prompt; }

// 1: a character; 0: end of input (Ctrl-C or a closed terminal); -1: error.
int read_byte(LineReader::Editor* ed, unsigned char& b) {
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, &b, 1);
    if (n == 1) return 1;
    if (n == 0) return 0;
    if (errno != EINTR) return -1;
    if (signals::interrupt_flag().load()) {
      ed->interrupted = true;
      return 0;
    }
  }
}

// Reads one character for libedit, decoding UTF-8 ourselves so that a Ctrl-C (SIGINT, which
// interrupts read() because the handler is installed without SA_RESTART) ends the prompt as
// Ctrl-D does instead of being retried or lost.
int read_char(EditLine* el, wchar_t* out) {
  LineReader::Editor* ed = editor_of(el);
  unsigned char b = 0;
  if (int rc = read_byte(ed, b); rc <= 0) return rc;
  const int extra = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : -1;
  if (extra < 0) {
    *out = 0xfffd;  // not a UTF-8 lead byte
    return 1;
  }
  uint32_t cp = extra == 0 ? b : b & (0x3f >> extra);
  for (int i = 0; i < extra; ++i) {
    if (int rc = read_byte(ed, b); rc <= 0) return rc;
    cp = (cp << 6) | (b & 0x3f);
  }
  *out = wchar_t(cp);
  return 1;
}

// Bound to Ctrl-C in case the terminal delivers it as a character rather than a signal.
unsigned char on_ctrl_c(EditLine* el, int) {
  editor_of(el)->interrupted = true;
  return CC_EOF;
}
}  // namespace

LineReader::LineReader(std::string prompt, std::string continuation)
    : prompt_(std::move(prompt)), continuation_(std::move(continuation)) {
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) return;
  std::setlocale(LC_CTYPE, "");  // libedit measures characters by the locale
  ed_ = std::make_unique<Editor>();
  ed_->el = el_init("gander", stdin, stdout, stderr);
  ed_->hist = history_init();
  HistEvent ev;
  history(ed_->hist, &ev, H_SETSIZE, 1000);
  history(ed_->hist, &ev, H_SETUNIQUE, 1);
  el_set(ed_->el, EL_CLIENTDATA, ed_.get());
  el_set(ed_->el, EL_EDITOR, "emacs");
  el_set(ed_->el, EL_PROMPT, prompt_of);
  el_set(ed_->el, EL_HIST, history, ed_->hist);
  el_set(ed_->el, EL_GETCFN, read_char);
  el_set(ed_->el, EL_ADDFN, "gander-interrupt", "End the session", on_ctrl_c);
  el_set(ed_->el, EL_BIND, "^C", "gander-interrupt", nullptr);
  el_source(ed_->el, nullptr);  // the user's ~/.editrc, if any
}

LineReader::~LineReader() {
  if (!ed_) return;
  history_end(ed_->hist);
  el_end(ed_->el);
}

bool LineReader::interactive() const { return ed_ != nullptr; }

std::optional<std::string> LineReader::read_line(bool first) {
  if (!ed_) {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }
  ed_->prompt = first ? prompt_.c_str() : continuation_.c_str();
  ed_->interrupted = false;
  int count = 0;
  const char* line = el_gets(ed_->el, &count);
  if (!line || count <= 0) {
    std::fputs("\n", stdout);  // leave the terminal on a fresh line
    std::fflush(stdout);
    return std::nullopt;
  }
  std::string s(line, size_t(count));
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::optional<std::string> LineReader::read() {
  const signals::ArmInterrupt arm;  // Ctrl-C at the prompt ends the session cleanly
  std::string message;
  for (bool first = true;; first = false) {
    std::optional<std::string> line = read_line(first);
    if (!line) {  // Ctrl-C ends the session; Ctrl-D on a continuation line sends what was typed
      if (first || (ed_ && ed_->interrupted)) return std::nullopt;
      break;
    }
    const bool more = !line->empty() && line->back() == '\\';
    if (more) line->pop_back();
    message += *line;
    if (!more) break;
    message += '\n';
  }
  if (ed_ && !message.empty()) {
    HistEvent ev;
    history(ed_->hist, &ev, H_ENTER, message.c_str());
  }
  return message;
}

}  // namespace gander::cli
