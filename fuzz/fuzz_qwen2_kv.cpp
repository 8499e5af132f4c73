// A Qwen2 KV-cache file (safetensors) checked against a small fixed model: any bytes give a cache
// whose tensors hold its length, or a gander::Error.
#include "fuzz_common.h"
#include "io/safetensors.h"
#include "models/qwen2/kv_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gander;
  try {
    const io::Checkpoint ck = io::parse_safetensors(fuzz::buffer_of(data, size), "fuzz");
    const qwen2::KvCache kv = qwen2::cache_from_checkpoint(ck, fuzz::qwen2_config(), fuzz::kFingerprint);
    const qwen2::Config& c = fuzz::qwen2_config();
    if (kv.length < 0 || kv.length > c.max_positions || int64_t(kv.k.size()) != c.n_layer) __builtin_trap();
    for (size_t l = 0; l < kv.k.size(); ++l)
      if (kv.k[l].dim(0) < kv.length || kv.v[l].dim(0) < kv.length) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
