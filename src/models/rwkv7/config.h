// RWKV-7 (x070) dimensions. Nothing is assumed: every size is read from tensor shapes (the LoRA
// ranks differ per model and per path), then every tensor is checked against these.
#pragma once
#include <cstdint>
#include <string>

namespace gander::rwkv7 {

inline constexpr int64_t kHeadSize = 64;
inline constexpr float kLayerNormEps = 1e-5f;
inline constexpr float kGroupNormEps = 64e-5f;  // ln_x: 1e-5 * head_size_divisor^2 in the paper-era code

struct Config {
  int64_t n_layer = 0;
  int64_t n_embd = 0;   // C
  int64_t n_head = 0;   // H = C / 64
  int64_t vocab = 0;    // V
  int64_t dim_ffn = 0;  // F = 4C in every released model
  int64_t rank_w = 0, rank_a = 0, rank_v = 0, rank_g = 0;

  int64_t head_size() const { return kHeadSize; }
  int64_t parameter_count() const;  // as the official README counts (layer-0 v-LoRA included)
  std::string describe() const;     // "L12 D768 H12 V65536 F3072 lora w64 a64 v32 g128"
  // Parses "L12,D768,V65536[,F3072][,W64,A64,Vr32,G128]" (ranks default to the official rule).
  static Config parse_shape(const std::string& spec);
};

}  // namespace gander::rwkv7
