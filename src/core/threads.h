// Thread control. Kernels parallelise with OpenMP over independent outputs (rows, heads), and
// every output element is reduced in a fixed order by one thread, so results do not depend on
// the thread count. The exception is oneDNN's GEMM for prefill-sized products, which may split
// the reduction dimension differently per thread count (float rounding only).
#pragma once
#include <string>

namespace gander {

int num_threads();
void set_num_threads(int n);
int hardware_threads();  // the CPUs this process may run on
// The largest thread count accepted: more threads than this only lose time (and libgomp fails
// to create tens of thousands).
int max_threads();

// A thread setting as the command line gives it: a fixed count, or "auto" (all hardware threads,
// and fewer while decoding when another process competes for the CPUs; see ThreadGovernor).
struct ThreadSetting {
  int count = 0;         // threads to use (for auto: the most)
  bool adaptive = true;  // auto
  static ThreadSetting parse(const std::string& text);  // "auto" or 1..max_threads(); throws otherwise
  std::string describe() const;                         // "2 threads", "1 thread", "auto (2 threads)"
};

// Chooses the thread count of decode steps by measuring them. Each decode step is a few dozen
// short parallel regions; with another busy process on the machine, one of our threads is
// regularly descheduled and every region then waits for it (2 threads gave 3-6x less than 1 on
// a 2-core host with one busy process). The wait policy cannot fix that (a passive wait costs
// 20-80 % on a quiet machine; see bench/RESULTS.md), so the governor times short epochs of steps
// and now and then probes one thread fewer or more, keeping whichever is faster. On a quiet
// machine the probes cost about 1 % (they grow rarer while the choice holds); a probe that is
// clearly losing is abandoned after one step, and the next waits 20x what it cost.
class ThreadGovernor {
 public:
  explicit ThreadGovernor(int max_threads);
  // Sets the thread count for the next step.
  void begin_step();
  // The wall time of the step just run.
  void end_step(double seconds);
  int current() const { return current_; }
  int max() const { return max_; }

 private:
  void finish_epoch(double per_step, double duration);
  int max_, current_, running_;    // the chosen count; the count of the epoch under way
  int probe_ = 0;                  // 0: not probing; else the count being tried
  double epoch_seconds_ = 0;
  int epoch_steps_ = 0;
  double chosen_per_step_ = 0;     // the last epoch of the chosen count (seconds per step)
  double since_probe_ = 0, probe_interval_ = kFirstProbeAfter;
  int direction_ = -1;             // which neighbour the next probe tries
  bool trace_ = false;             // GANDER_TRACE_THREADS set: each epoch is reported on stderr
  static constexpr double kEpochSeconds = 0.02, kFirstProbeAfter = 0.05, kLongestProbeInterval = 8.0;
  static constexpr int kMinEpochSteps = 2, kMaxEpochSteps = 256;
  static constexpr double kMargin = 0.05;         // a probe must be 5 % faster to win
  static constexpr double kHopeless = 3.0;        // a probe 3x slower than the choice is abandoned
  static constexpr double kProbeCostFactor = 20;  // after a lost probe, wait 20x its cost
};

}  // namespace gander
