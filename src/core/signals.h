// Signals: a cooperative Ctrl-C and no temporary files left behind.
//
// The CLI installs the handlers once at start. SIGINT while an interrupt is armed (a reply being
// generated, a prompt being read) only sets the interrupt flag, and the running command winds
// down at its next check (a chat returns to its prompt; generate stops and keeps its work). Any
// other terminating signal, or a second SIGINT before the first was handled, removes the
// registered temporary files and ends the process by that signal, as if there were no handler.
#pragma once
#include <atomic>
#include <string>

namespace gander::signals {

void install_handlers();

// The flag an armed SIGINT sets. Commands poll it; whoever handles an interrupt clears it.
std::atomic<bool>& interrupt_flag();
// While a guard lives, SIGINT is cooperative (sets the flag) instead of fatal.
class ArmInterrupt {
 public:
  ArmInterrupt();
  ~ArmInterrupt();
  ArmInterrupt(const ArmInterrupt&) = delete;
  ArmInterrupt& operator=(const ArmInterrupt&) = delete;
};

// Registers a path to remove if a signal ends the process; returns a slot for release_temp_file.
// Throws if too many are registered at once (a fixed table: the handler may not allocate).
int register_temp_file(const std::string& path);
void release_temp_file(int slot);

}  // namespace gander::signals
