// An RWKV-7 state file (safetensors) checked against a small fixed model: any bytes give a state
// of exactly the model's layout, or a gander::Error.
#include "fuzz_common.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gander;
  try {
    const fuzz::FuzzModel& m = fuzz::rwkv7_model();
    const io::Checkpoint ck = io::parse_safetensors(fuzz::buffer_of(data, size), "fuzz");
    const models::SequenceState s = sequence_state_from_checkpoint(ck, m.layout, m.owner);
    const auto& es = s.layout().entries();
    for (size_t i = 0; i < es.size(); ++i)
      if (s.at(i).shape() != es[i].shape) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
