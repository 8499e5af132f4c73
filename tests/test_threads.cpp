// The thread option and the governor that picks the decode thread count by measuring.
#include <gtest/gtest.h>

#include <functional>

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

// A simulated machine: each step takes `seconds(n)` of wall time at n threads, during which the
// threads get `share(n)` of the CPU they would use alone (less when another process competes).
double g_wall = 0, g_cpu = 0;
double fake_wall() { return g_wall; }
double fake_cpu() { return g_cpu; }

struct Machine {
  std::function<double(int)> seconds, share = [](int) { return 1.0; };
};

std::vector<int> drive(ThreadGovernor& g, int steps, const Machine& m) {
  std::vector<int> used;
  for (int i = 0; i < steps; ++i) {
    g.begin_step();
    const int n = num_threads();
    used.push_back(n);
    const double dt = m.seconds(n);
    g_wall += dt;
    g_cpu += dt * n * m.share(n);
    g.end_step();
    g_wall += 1e-5, g_cpu += 1e-5;  // sampling between steps, one thread
  }
  return used;
}

double share_of(const std::vector<int>& used, int n, size_t from) {
  size_t k = 0;
  for (size_t i = from; i < used.size(); ++i) k += used[i] == n;
  return double(k) / double(used.size() - from);
}

TEST(ThreadGovernor, NeverProbesAQuietMachine) {
  ThreadGovernor g(2, fake_wall, fake_cpu);
  // 2 threads: 5 ms a token with all the CPU they want (1 thread would take 8 ms).
  const auto used = drive(g, 4000, {[](int n) { return n == 2 ? 0.005 : 0.008; }});
  EXPECT_EQ(g.current(), 2);
  EXPECT_EQ(share_of(used, 2, 0), 1.0) << "a probe on a quiet machine only costs";
  set_num_threads(hardware_threads());
}

TEST(ThreadGovernor, MovesToOneThreadWhenAnotherProcessCompetesAndBack) {
  ThreadGovernor g(2, fake_wall, fake_cpu);
  bool busy = true;
  // Busy: the 2 threads get 2/3 of the CPU they would use and each step waits for a descheduled
  // one (20 ms instead of 5); 1 thread keeps its core (8 ms).
  Machine m{[&](int n) { return n == 2 ? (busy ? 0.020 : 0.005) : 0.008; },
            [&](int n) { return n == 2 && busy ? 0.67 : 1.0; }};
  auto used = drive(g, 600, m);
  EXPECT_EQ(g.current(), 1);
  EXPECT_GT(share_of(used, 1, 100), 0.95);
  busy = false;  // the other process ended: within a few seconds of decoding it is back on 2
  used = drive(g, 3000, m);
  EXPECT_EQ(g.current(), 2);
  EXPECT_GT(share_of(used, 2, 1500), 0.97);
  set_num_threads(hardware_threads());
}

TEST(ThreadGovernor, JudgesAProbeAgainstTheMeanStallsIncluded) {
  ThreadGovernor g(2, fake_wall, fake_cpu);
  // Measured with one busy process on a 2-core host (RWKV-7 0.1B): 2 threads take 24 ms a step,
  // but one step in six stalls for 150 ms (a mean of 45 ms); 1 thread takes a steady 27 ms. The
  // last epoch before a probe is usually a fast one, which 1 thread never beats.
  int step = 0;
  Machine m{[&](int n) { return n == 1 ? 0.027 : (++step % 6 == 0 ? 0.150 : 0.024); },
            [](int n) { return n == 2 ? 0.74 : 1.0; }};
  const auto used = drive(g, 1500, m);
  EXPECT_EQ(g.current(), 1);
  EXPECT_GT(share_of(used, 1, 300), 0.9);
  set_num_threads(hardware_threads());
}

TEST(ThreadGovernor, AProbeThatStallsIsAbandonedAtOnceAndNotRepeatedSoon) {
  ThreadGovernor g(2, fake_wall, fake_cpu);
  // Start busy: 2 threads starve; moving to 1 wins. A 2-thread step then stalls for 400 ms.
  Machine m{[](int n) { return n == 2 ? 0.4 : 0.002; }, [](int n) { return n == 2 ? 0.5 : 1.0; }};
  const double t0 = g_wall;
  const auto used = drive(g, 20000, m);  // 40 s of decoding at 1 thread
  size_t stalled = 0;
  for (size_t i = 10; i < used.size(); ++i) stalled += used[i] == 2;
  // Probes up cost one 0.4 s step each and wait 20x that: at most ~1 in 8 s once settled.
  EXPECT_LE(stalled, 12u);
  EXPECT_LT(g_wall - t0, 40 + 0.4 * 14);
  set_num_threads(hardware_threads());
}

TEST(ThreadGovernor, OneThreadNeverProbes) {
  ThreadGovernor g(1, fake_wall, fake_cpu);
  drive(g, 100, {[](int) { return 0.01; }});
  EXPECT_EQ(g.current(), 1);
}

}  // namespace
}  // namespace gander
