#include "core/cpu.h"

#include <cstdlib>
#include <cstring>

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gander {

namespace {
// GANDER_NO_AVX512=1 forces the portable kernels, to test them on an AVX-512 machine.
bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "0") != 0;
}
bool avx512_disabled() { return env_set("GANDER_NO_AVX512"); }

// CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE. (GCC 12's __builtin_cpu_supports does not
// report AMX.)
bool cpuid_has_amx_bf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ((d >> 22) & 1) && ((d >> 24) & 1);
}

// Linux hands out the 8 KB AMX tile state only to processes that ask for it.
bool request_amx_permission() {
#if defined(__linux__) && defined(SYS_arch_prctl)
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}
}  // namespace

bool cpu_has_avx512() {
  static const bool has = !avx512_disabled() && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512dq");
  return has;
}

bool cpu_has_avx512_bf16() {
  static const bool has = cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
  return has;
}

bool cpu_has_amx_bf16() {
  static const bool has = cpu_has_avx512_bf16() && !env_set("GANDER_NO_AMX") && cpuid_has_amx_bf16() &&
                          request_amx_permission();
  return has;
}

}  // namespace gander
