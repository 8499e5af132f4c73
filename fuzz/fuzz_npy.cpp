// Any byte string fed to the .npy reader must give a tensor of the bytes it holds or an Error.
#include <string_view>

#include "fuzz_common.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const gander::Tensor t = gander::io::parse_npy(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    if (t.nbytes() > size) __builtin_trap();  // the data was checked against the input's size
    gander::fuzz::touch(t);
  } catch (const gander::Error&) {
  }
  return 0;
}
