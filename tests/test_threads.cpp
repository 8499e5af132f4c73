// The thread option and the governor that picks the decode thread count by measuring.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/threads.h"

namespace gander {
namespace {

TEST(ThreadSetting, AutoOrABoundedCount) {
  EXPECT_TRUE(ThreadSetting::parse("auto").adaptive);
  EXPECT_EQ(ThreadSetting::parse("auto").count, hardware_threads());
  EXPECT_EQ(ThreadSetting::parse("1").count, 1);
  EXPECT_FALSE(ThreadSetting::parse("1").adaptive);
  for (const char* bad : {"0", "-1", "100000", "2x", "", "1e3"}) EXPECT_THROW(ThreadSetting::parse(bad), Error) << bad;
  EXPECT_EQ((ThreadSetting{1, false}.describe()), "1 thread");
  EXPECT_EQ((ThreadSetting{2, true}.describe()), "auto (2 threads)");
}

// Runs `steps` decode steps whose time depends on the chosen count; returns the counts used.
std::vector<int> drive(ThreadGovernor& g, int steps, const std::function<double(int)>& seconds_per_step) {
  std::vector<int> used;
  for (int i = 0; i < steps; ++i) {
    g.begin_step();
    used.push_back(num_threads());
    g.end_step(seconds_per_step(num_threads()));
  }
  return used;
}

double share_of(const std::vector<int>& used, int n, size_t from) {
  size_t k = 0;
  for (size_t i = from; i < used.size(); ++i) k += used[i] == n;
  return double(k) / double(used.size() - from);
}

TEST(ThreadGovernor, StaysOnAllThreadsWhenTheyAreFasterAndProbesRarely) {
  ThreadGovernor g(2);
  // 2 threads: 5 ms a token; 1 thread: 8 ms.
  const auto used = drive(g, 4000, [](int n) { return n == 2 ? 0.005 : 0.008; });
  EXPECT_EQ(g.current(), 2);
  EXPECT_GT(share_of(used, 2, 0), 0.98);  // probes cost under 2 % of the steps
}

TEST(ThreadGovernor, MovesToOneThreadWhenAnotherProcessCompetesAndBack) {
  ThreadGovernor g(2);
  bool busy = true;
  // Busy: a descheduled thread stalls every region, 2 threads take 20 ms, 1 thread 8 ms.
  auto cost = [&](int n) { return n == 2 ? (busy ? 0.020 : 0.005) : 0.008; };
  auto used = drive(g, 600, cost);
  EXPECT_EQ(g.current(), 1);
  EXPECT_GT(share_of(used, 1, 300), 0.9);
  busy = false;  // the other process ended: within a few seconds of decoding it is back on 2
  used = drive(g, 3000, cost);
  EXPECT_EQ(g.current(), 2);
  EXPECT_GT(share_of(used, 2, 1500), 0.95);
  set_num_threads(hardware_threads());
}

TEST(ThreadGovernor, OneThreadNeverProbes) {
  ThreadGovernor g(1);
  const auto used = drive(g, 100, [](int) { return 0.01; });
  EXPECT_EQ(g.current(), 1);
}

}  // namespace
}  // namespace gander
