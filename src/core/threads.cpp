#include "core/threads.h"

#include <omp.h>

#include <algorithm>
#include <charconv>
#include <ctime>
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

namespace {
double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
}  // namespace

ThreadGovernor::ThreadGovernor(int max_threads, Clock wall, Clock cpu)
    : wall_(wall ? wall : wall_seconds),
      cpu_(cpu ? cpu : process_cpu_seconds),
      max_(std::max(1, max_threads)),
      current_(max_),
      running_(max_),
      best_(size_t(max_) + 1, 0.0),
      trace_(std::getenv("GANDER_TRACE_THREADS") != nullptr) {}

void ThreadGovernor::begin_step() {
  if (max_ == 1) return;
  set_num_threads(running_);
  step_start_ = wall_();
  if (epoch_steps_ == 0) {
    epoch_start_wall_ = step_start_;
    epoch_start_cpu_ = cpu_();
  }
}

void ThreadGovernor::end_step() {
  if (max_ == 1) return;
  epoch_seconds_ += wall_() - step_start_;
  ++epoch_steps_;
  // On a busy machine one step at the wrong count can take 100x longer than at the right one
  // (each of its parallel regions waits out a descheduled thread): a probe that is clearly
  // losing ends at once instead of finishing its epoch.
  const bool hopeless = probe_ != 0 && epoch_seconds_ > kHopeless * chosen_mean() * epoch_steps_;
  // Epochs of ~20 ms (and at least 2 steps) average out the noise of single steps.
  if (!hopeless && (epoch_steps_ < kMinEpochSteps || epoch_seconds_ < kEpochSeconds) && epoch_steps_ < kMaxEpochSteps)
    return;
  // The threads' share of the CPU while the epoch ran (spinning between regions counts as running).
  const double wall = wall_() - epoch_start_wall_, cpu = cpu_() - epoch_start_cpu_;
  const double cpu_share = wall > 0 ? cpu / (wall * running_) : 1;
  const double per_step = epoch_seconds_ / epoch_steps_, duration = epoch_seconds_;
  if (trace_)
    std::fprintf(stderr, "[threads: %d for %d steps: %.3f ms/step, %.0f%% CPU%s]\n", running_, epoch_steps_,
                 per_step * 1e3, 100 * cpu_share, probe_ ? (hopeless ? " (probe, abandoned)" : " (probe)") : "");
  const int steps = epoch_steps_;
  epoch_seconds_ = 0;
  epoch_steps_ = 0;
  finish_epoch(per_step, duration, steps, cpu_share);
}

double ThreadGovernor::chosen_mean() const { return chosen_steps_ > 0 ? chosen_seconds_ / chosen_steps_ : 0; }

void ThreadGovernor::start_probe(int count) {
  probe_ = running_ = count;
}

void ThreadGovernor::finish_epoch(double per_step, double duration, int steps, double cpu_share) {
  double& best = best_[size_t(running_)];
  best = best > 0 ? std::min(best * kBestDrift, per_step) : per_step;
  if (probe_ != 0) {
    // A probe is judged against the chosen count's recent mean, not its last epoch: on a busy host
    // most of its epochs may be fast and one in several stall for 3-6x as long.
    const bool down = probe_ < current_;
    // A probe of more threads that were starved of CPU finds the other process still there: a
    // lucky short epoch must not win it back.
    const bool won = per_step < chosen_mean() * (1 - kMargin) && (down || cpu_share >= kStarvedShare);
    // Probes stay a small share of the time: after a lost one, the next in the same direction
    // waits twice as long as the last wait (from 0.05 s down, which only follows evidence of
    // contention, or 0.1 s up; at most 8 s) and at least 20x the time the lost probe cost.
    double& interval = down ? down_interval_ : up_interval_;
    const double cost = std::max(0.0, duration - chosen_mean() * steps);
    if (won) {
      current_ = probe_;
      up_interval_ = kFirstUpProbe;  // conditions changed: look again soon
      down_interval_ = 0;
    } else {
      const double first = down ? kFirstDownProbe : kFirstUpProbe;
      interval = std::max(std::min(std::max(2 * interval, first), kLongestProbeInterval), kProbeCostFactor * cost);
    }
    (down ? since_down_probe_ : since_up_probe_) = 0;
    probe_ = 0;
    running_ = current_;
    chosen_seconds_ = 0;  // re-measure the (possibly new) choice before the next probe
    chosen_steps_ = 0;
    return;
  }
  chosen_seconds_ = chosen_seconds_ * kMeanDecay + duration;
  chosen_steps_ = chosen_steps_ * kMeanDecay + steps;
  since_up_probe_ += duration;
  since_down_probe_ += duration;
  // Two epochs in a row: a shared host's passing blip is not worth a probe.
  contended_epochs_ = cpu_share < kStarvedShare || per_step > kSlowerThanBest * best ? contended_epochs_ + 1 : 0;
  if (current_ > 1 && contended_epochs_ >= 2 && since_down_probe_ >= down_interval_) return start_probe(current_ - 1);
  if (current_ < max_ && since_up_probe_ >= up_interval_) return start_probe(current_ + 1);
}

}  // namespace gander
