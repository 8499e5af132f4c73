// The fuzz setup's self-test, built twice: fuzz_canary_library reaches undefined behaviour in
// library-built code, fuzz_canary_recovering in code built to recover. ctest runs both through
// run_fuzz.sh and expects each run to fail.
#include "canary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#ifdef GANDER_CANARY_RECOVERING
  return gander::fuzz::canary_overflow_recovering(data, size) & 0;
#else
  return gander::fuzz::canary_overflow_in_library(data, size) & 0;
#endif
}
