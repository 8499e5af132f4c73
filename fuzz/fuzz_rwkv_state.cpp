// An RWKV-7 state file (safetensors) checked against a small fixed model: any bytes give a State
// of exactly the model's shape, or a gander::Error.
#include "fuzz_common.h"
#include "io/safetensors.h"
#include "models/rwkv7/state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gander;
  try {
    const io::Checkpoint ck = io::parse_safetensors(fuzz::buffer_of(data, size), "fuzz");
    const rwkv7::State s = rwkv7::state_from_checkpoint(ck, fuzz::rwkv7_config(), fuzz::kFingerprint);
    if (!s.matches(fuzz::rwkv7_config())) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
