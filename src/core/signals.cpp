#include "core/signals.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "core/error.h"

namespace gander::signals {

namespace {
// A fixed table the handler can walk without allocating. A writer claims a free slot, fills the
// path and publishes it; the handler removes only published paths.
constexpr int kSlots = 16;
constexpr size_t kPathMax = 4096;
enum : int { kFree, kFilling, kPublished };
struct Slot {
  std::atomic<int> state{kFree};
  char path[kPathMax] = {};
};
Slot g_slots[kSlots];
std::atomic<bool> g_interrupt{false};
std::atomic<int> g_armed{0};

void remove_temp_files() {
  for (Slot& s : g_slots)
    if (s.state.load(std::memory_order_acquire) == kPublished) ::unlink(s.path);  // async-signal-safe
}

extern "C" void on_signal(int sig) {
  if (sig == SIGINT && g_armed.load() > 0 && !g_interrupt.load()) {
    g_interrupt.store(true);
    return;
  }
  remove_temp_files();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}
}  // namespace

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR, so an interrupted prompt returns
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
  // A closed pipe on standard output becomes a write error that the command reports.
  ::signal(SIGPIPE, SIG_IGN);
}

std::atomic<bool>& interrupt_flag() { return g_interrupt; }

ArmInterrupt::ArmInterrupt() { g_armed.fetch_add(1); }
ArmInterrupt::~ArmInterrupt() { g_armed.fetch_sub(1); }

int register_temp_file(const std::string& path) {
  GANDER_CHECK(path.size() < kPathMax, path, ": path too long");
  for (int i = 0; i < kSlots; ++i) {
    Slot& s = g_slots[i];
    int expected = kFree;
    if (!s.state.compare_exchange_strong(expected, kFilling)) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.state.store(kPublished, std::memory_order_release);
    return i;
  }
  fail(path, ": too many files being written at once");
}

void release_temp_file(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  g_slots[slot].state.store(kFree, std::memory_order_release);
}

}  // namespace gander::signals
