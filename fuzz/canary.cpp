// Built twice (see CMakeLists.txt): into gander_fuzz_lib with the library's flags, and on its own
// with -fsanitize-recover=undefined under the other name.
#include <climits>

#include "canary.h"

#ifdef GANDER_CANARY_RECOVERING
#define GANDER_CANARY canary_overflow_recovering
#else
#define GANDER_CANARY canary_overflow_in_library
#endif

namespace gander::fuzz {
int GANDER_CANARY(const uint8_t* data, size_t size) {
  const int big = size ? INT_MAX - int(data[0] & 1) : 0;
  return big + (size ? 2 : 0);  // overflows for every non-empty input
}
}  // namespace gander::fuzz
