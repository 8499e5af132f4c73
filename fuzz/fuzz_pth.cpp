// Any byte string fed to the .pth reader (zip + restricted unpickler) must give tensors or an Error.
#include "fuzz_common.h"
#include "io/pth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    gander::fuzz::touch_all(gander::io::parse_pth(gander::fuzz::buffer_of(data, size), "fuzz"));
  } catch (const gander::Error&) {
  }
  return 0;
}
