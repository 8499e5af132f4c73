// Thread control. Kernels parallelise with OpenMP over independent outputs (rows, heads), and
// every output element is reduced in a fixed order by one thread, so results do not depend on
// the thread count. The exception is oneDNN's GEMM for prefill-sized products, which may split
// the reduction dimension differently per thread count (float rounding only).
#pragma once
#include <string>
#include <vector>

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
// regularly descheduled and every region then waits for it (2 threads decoded 2-6x slower than 1
// on a 2-core host with one busy process). No OpenMP wait policy fixes that without costing the
// quiet machine (a passive wait lost 20-80 %; see bench/RESULTS.md), so the governor measures:
// it times epochs of ~20 ms, and
//  - tries one thread fewer only on evidence of contention in two epochs in a row: the threads
//    got under 85 % of the CPU time they were running for (runnable but descheduled), or an epoch
//    took 1.5x the best one seen at that count. A quiet machine shows neither and is not probed;
//    after a lost probe the next waits 0.05 s, then doubling intervals;
//  - below the most threads, tries one more now and then (after 0.1 s, then at doubling
//    intervals up to 8 s), to notice that the other process is gone. After any lost probe the
//    next in its direction also waits at least 20x the time the probe lost;
//  - keeps a probe's count if it was 5 % faster than the chosen count's recent mean (stalls
//    included: busy, 2 threads may run most epochs fast and one in several 4x slower) and, for
//    more threads, if they got their CPU time; abandons a probe at once when it runs 3x slower.
// Decoding results do not depend on the thread count, so switching is invisible but for speed.
class ThreadGovernor {
 public:
  using Clock = double (*)();
  // `wall` and `cpu` (this process's CPU seconds, all threads) are the system's unless a test
  // gives its own.
  explicit ThreadGovernor(int max_threads, Clock wall = nullptr, Clock cpu = nullptr);
  // Sets the thread count for the next step and starts timing it.
  void begin_step();
  void end_step();
  int current() const { return current_; }
  int max() const { return max_; }

 private:
  void finish_epoch(double per_step, double duration, int steps, double cpu_share);
  double chosen_mean() const;  // seconds per step of the chosen count, recent epochs weighted most
  void start_probe(int count);
  Clock wall_, cpu_;
  int max_, current_, running_;    // the chosen count; the count of the epoch under way
  int probe_ = 0;                  // 0: not probing; else the count being tried
  double step_start_ = 0, epoch_start_wall_ = 0, epoch_start_cpu_ = 0, epoch_seconds_ = 0;
  int epoch_steps_ = 0;
  double chosen_seconds_ = 0, chosen_steps_ = 0;  // the chosen count's time and steps, decaying
                                                   // by kMeanDecay an epoch, since the last probe
  std::vector<double> best_;       // per count: the fastest epoch seen lately (seconds per step)
  double since_up_probe_ = 0, up_interval_ = kFirstUpProbe;
  double since_down_probe_ = 0, down_interval_ = 0;  // a lost probe down holds the next one off
  int contended_epochs_ = 0;       // consecutive epochs of the chosen count that showed contention
  bool trace_ = false;             // GANDER_TRACE_THREADS set: each epoch is reported on stderr
  static constexpr double kEpochSeconds = 0.02, kFirstUpProbe = 0.1, kFirstDownProbe = 0.05, kLongestProbeInterval = 8.0;
  static constexpr int kMinEpochSteps = 2, kMaxEpochSteps = 256;
  static constexpr double kMargin = 0.05;          // a probe must be 5 % faster to win
  static constexpr double kHopeless = 3.0;         // a probe 3x slower than the choice is abandoned
  static constexpr double kProbeCostFactor = 20;   // after a lost probe, wait 20x its cost
  static constexpr double kStarvedShare = 0.85;    // CPU time under 85 % of threads x wall: contention
  static constexpr double kSlowerThanBest = 1.5;   // an epoch 1.5x the best at its count: contention
  static constexpr double kBestDrift = 1.01;       // the best relaxes 1 % an epoch (contexts grow)
  static constexpr double kMeanDecay = 0.95;       // the chosen mean's memory: ~20 epochs
};

}  // namespace gander
