// What the fuzz targets share: the input as a Buffer, a read of every tensor's last byte (so that
// ASan sees any view that lies outside its buffer), and the small models that the state and
// KV-cache files are checked against (make_seeds writes valid files for the same models).
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>

#include "io/checkpoint.h"
#include "models/sequence_state.h"
#include "models/state_file.h"

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

// The state layouts of two small models, as their blocks declare them (written out here so that
// the fuzz build needs no kernels): RWKV-7 L2 D64 V256 and Qwen2 L2 D64 I96 V300 with one KV head of 32
// (tests/test_state_files.cpp checks them against the real models).
struct FuzzModel {
  std::shared_ptr<const models::StateLayout> layout;
  StateOwner owner;
};

inline const FuzzModel& rwkv7_model() {
  static const FuzzModel m = [] {
    auto layout = std::make_shared<models::StateLayout>();
    for (int l = 0; l < 2; ++l) {
      models::StateDecl d(*layout, concat("blocks.", l, "."));
      d.fixed("att_shift", {64});
      d.fixed("wkv", {1, 64, 64});
      d.fixed("ffn_shift", {64});
    }
    return FuzzModel{layout, {{"gander-rwkv7-state", 1, "RWKV-7 state"}, "L2 D64 H1 V256 F256 lora w32 a32 v32 g32", kFingerprint, 0}};
  }();
  return m;
}

inline const FuzzModel& qwen2_model() {
  static const FuzzModel m = [] {
    auto layout = std::make_shared<models::StateLayout>();
    for (int l = 0; l < 2; ++l) {
      models::StateDecl d(*layout, concat("layers.", l, "."));
      d.growing("k", {1, 32});
      d.growing("v", {1, 32});
    }
    // max_length keeps a hostile 'length' from allocating 32768 positions per run.
    return FuzzModel{layout, {{"gander-qwen2-kv", 2, "Qwen2 KV-cache"}, "L2 D64 heads 2/1x32 MLP96 V300", kFingerprint, 1024}};
  }();
  return m;
}

}  // namespace gander::fuzz
