// A Qwen2 KV-cache file (safetensors) checked against a small fixed model: any bytes give a cache
// whose tensors hold its length, or a gander::Error.
#include "fuzz_common.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gander;
  try {
    const fuzz::FuzzModel& m = fuzz::qwen2_model();
    const io::Checkpoint ck = io::parse_safetensors(fuzz::buffer_of(data, size), "fuzz");
    const models::SequenceState kv = sequence_state_from_checkpoint(ck, m.layout, m.owner);
    if (kv.length() < 0 || kv.length() > m.owner.max_length) __builtin_trap();
    const auto& es = kv.layout().entries();
    for (size_t i = 0; i < es.size(); ++i)
      if (kv.length() > 0 && (!es[i].grows || kv.at(i).dim(0) < kv.length())) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
