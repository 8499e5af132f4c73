#include "core/cpu.h"

#include <cstdlib>
#include <cstring>

namespace gander {

namespace {
// GANDER_NO_AVX512=1 forces the portable kernels, to test them on an AVX-512 machine.
bool avx512_disabled() {
  const char* v = std::getenv("GANDER_NO_AVX512");
  return v && std::strcmp(v, "0") != 0;
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

}  // namespace gander
