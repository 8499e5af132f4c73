// A weight fingerprint: a 64-bit hash of every tensor's name, shape and a sample of its values.
// State and KV-cache files carry the fingerprint of the model that wrote them, so that a file
// from another model of the same shape is refused. Values, not storage, are hashed: a bf16 file
// and its f32 copy are the same model. Tensors must still be in row-major order (hash before tiling).
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace gander {

class Fingerprint {
 public:
  void add(const std::string& name, const Tensor& t);
  uint64_t value() const { return h_; }
  static std::string hex(uint64_t v);  // as written in file metadata

 private:
  void mix(const void* p, size_t n);
  uint64_t h_ = 1469598103934665603ull;  // FNV-1a offset basis
};

}  // namespace gander
