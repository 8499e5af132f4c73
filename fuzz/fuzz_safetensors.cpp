// Any byte string fed to the safetensors reader must give a tensor set or a gander::Error.
#include "fuzz_common.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    gander::fuzz::touch_all(gander::io::parse_safetensors(gander::fuzz::buffer_of(data, size), "fuzz"));
  } catch (const gander::Error&) {
  }
  return 0;
}
