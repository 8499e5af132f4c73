// What the fuzz targets share: the input as a Buffer, a read of every tensor's last byte (so that
// ASan sees any view that lies outside its buffer), and the small models that the state and
// KV-cache files are checked against (make_seeds writes valid files for the same models).
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>

#include "io/checkpoint.h"
#include "models/qwen2/config.h"
#include "models/rwkv7/config.h"

namespace gander::fuzz {

inline std::shared_ptr<Buffer> buffer_of(const uint8_t* data, size_t size) {
  auto buf = std::make_shared<AlignedBuffer>(size);
  if (size) std::memcpy(buf->mutable_data(), data, size);
  return buf;
}

inline void touch(const Tensor& t) {
  if (!t.nbytes()) return;
  volatile uint8_t sink = static_cast<const uint8_t*>(t.storage())[t.nbytes() - 1];
  (void)sink;
}

inline void touch_all(const io::Checkpoint& ck) {
  for (const auto& name : ck.names()) touch(ck.get(name));
}

inline constexpr uint64_t kFingerprint = 0x5eed5eed5eed5eedull;

inline const rwkv7::Config& rwkv7_config() {
  static const rwkv7::Config c = rwkv7::Config::parse_shape("L2,D64,V256");
  return c;
}

inline const qwen2::Config& qwen2_config() {
  static const qwen2::Config c = [] {
    qwen2::Config q = qwen2::Config::parse_shape("L2,D64,H2,KV1,I128,V256");
    q.max_positions = 1024;  // keeps a hostile 'length' from allocating 32768 positions per run
    return q;
  }();
  return c;
}

}  // namespace gander::fuzz
