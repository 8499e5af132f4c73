// Any byte string fed to the .pth reader (zip + restricted unpickler) must give tensors or an Error.
#include <cstring>

#include "io/pth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto buf = std::make_shared<gander::AlignedBuffer>(size);
  if (size) std::memcpy(buf->mutable_data(), data, size);
  try {
    gander::io::Checkpoint ck = gander::io::parse_pth(buf, "fuzz");
    for (const auto& name : ck.names()) {
      const gander::Tensor& t = ck.get(name);
      volatile uint8_t sink = 0;
      if (t.nbytes()) sink = static_cast<const uint8_t*>(t.raw())[t.nbytes() - 1];
      (void)sink;
    }
  } catch (const gander::Error&) {
  }
  return 0;
}
