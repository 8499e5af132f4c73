#include "models/fingerprint.h"

#include <algorithm>
#include <sstream>

namespace gander {

void Fingerprint::mix(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) h_ = (h_ ^ b[i]) * 1099511628211ull;  // FNV-1a prime
}

void Fingerprint::add(const std::string& name, const Tensor& t) {
  mix(name.data(), name.size());
  for (int64_t d : t.shape()) mix(&d, sizeof d);
  // Up to 64 evenly spaced values: enough to tell models apart, cheap for billions of weights.
  const int64_t n = t.numel(), step = std::max<int64_t>(1, n / 64);
  for (int64_t i = 0; i < n; i += step) {
    float v = 0;
    convert_to_f32(t.dtype(), static_cast<const std::byte*>(t.raw()) + size_t(i) * dtype_size(t.dtype()), &v, 1);
    mix(&v, sizeof v);
  }
}

std::string Fingerprint::hex(uint64_t v) {
  std::ostringstream o;
  o << std::hex << v;
  return o.str();
}

}  // namespace gander
