// Deliberate undefined behaviour for the fuzz setup's self-test (fuzz_canary_*): a run that reaches
// it must be reported as failed, or sanitizer reports could again pass as clean runs.
#pragma once
#include <cstddef>
#include <cstdint>

namespace gander::fuzz {
// Signed overflow in code built like the library (gander_fuzz_lib): the report must stop the run.
int canary_overflow_in_library(const uint8_t* data, size_t size);
// The same, built to recover: the run goes on, and only run_fuzz.sh's scan of the log can fail it.
int canary_overflow_recovering(const uint8_t* data, size_t size);
}  // namespace gander::fuzz
