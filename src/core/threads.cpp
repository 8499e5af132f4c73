#include "core/threads.h"

#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace gander {

int num_threads() { return omp_get_max_threads(); }
void set_num_threads(int n) { omp_set_num_threads(std::clamp(n, 1, max_threads())); }
int hardware_threads() { return std::max(1, omp_get_num_procs()); }
int max_threads() { return 4 * hardware_threads(); }

ThreadSetting ThreadSetting::parse(const std::string& text) {
  if (text == "auto") return {hardware_threads(), true};
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  GANDER_CHECK(ec == std::errc() && end == text.data() + text.size() && n >= 1 && n <= max_threads(),
               "--threads must be 'auto' or a whole number from 1 to ", max_threads(), " (4 x the ",
               hardware_threads(), " hardware threads), got '", text, "'");
  return {n, false};
}

std::string ThreadSetting::describe() const {
  const std::string n = concat(count, count == 1 ? " thread" : " threads");
  return adaptive ? "auto (" + n + ")" : n;
}

ThreadGovernor::ThreadGovernor(int max_threads)
    : max_(std::max(1, max_threads)), current_(max_), running_(max_), trace_(std::getenv("GANDER_TRACE_THREADS") != nullptr) {}

void ThreadGovernor::begin_step() {
  if (max_ > 1) set_num_threads(running_);
}

void ThreadGovernor::end_step(double seconds) {
  if (max_ == 1) return;
  epoch_seconds_ += seconds;
  ++epoch_steps_;
  // On a busy machine one step at the wrong count can take 100x longer than at the right one
  // (each of its parallel regions waits out a descheduled thread): a probe that is clearly
  // losing ends at once instead of finishing its epoch.
  const bool hopeless = probe_ != 0 && epoch_seconds_ > kHopeless * chosen_per_step_ * epoch_steps_;
  // Epochs of ~20 ms (and at least 2 steps) average out the noise of single steps.
  if (!hopeless && (epoch_steps_ < kMinEpochSteps || epoch_seconds_ < kEpochSeconds) && epoch_steps_ < kMaxEpochSteps)
    return;
  const double per_step = epoch_seconds_ / epoch_steps_, duration = epoch_seconds_;
  if (trace_)
    std::fprintf(stderr, "[threads: %d for %d steps: %.3f ms/step%s]\n", running_, epoch_steps_, per_step * 1e3,
                 probe_ ? (hopeless ? " (probe, abandoned)" : " (probe)") : "");
  epoch_seconds_ = 0;
  epoch_steps_ = 0;
  finish_epoch(per_step, duration);
}

void ThreadGovernor::finish_epoch(double per_step, double duration) {
  if (probe_ != 0) {
    // A probe is judged against the chosen count's latest epoch, measured just before it.
    if (per_step < chosen_per_step_ * (1 - kMargin)) {
      current_ = probe_;
      probe_interval_ = kFirstProbeAfter;  // conditions changed: look again soon
    } else {
      // Probes stay a small share of the time: the next one waits at least 20x what this one cost.
      probe_interval_ = std::max(std::min(2 * probe_interval_, kLongestProbeInterval), kProbeCostFactor * duration);
      direction_ = -direction_;  // try the other side next time
    }
    probe_ = 0;
    running_ = current_;
    since_probe_ = 0;
    chosen_per_step_ = 0;  // re-measure the (possibly new) choice before the next probe
    return;
  }
  chosen_per_step_ = per_step;
  since_probe_ += duration;
  if (since_probe_ < probe_interval_) return;
  int next = current_ + direction_;
  if (next < 1 || next > max_) next = current_ - direction_;
  if (next < 1 || next > max_) return;
  probe_ = running_ = next;
}

}  // namespace gander
