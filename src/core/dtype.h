// Element types and the exact scalar conversions between them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace gander {

enum class DType : uint8_t { F32, BF16, F16, F64, I64, I32, U8 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "f32", "bf16", ...
// Parses the short names above (as used on the command line).
DType dtype_from_name(const std::string& name);

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// bf16 is the top half of an f32: widening is exact.
inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

// Round to nearest even, as PyTorch and the AVX512-BF16 instructions do; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // round to nearest even, overflow to inf

// Converts n elements of type `from` into f32 (exact for every supported type).
void convert_to_f32(DType from, const void* src, float* dst, size_t n);
// Converts n f32 values into type `to` (rounding to nearest even for bf16/f16).
void convert_from_f32(DType to, const float* src, void* dst, size_t n);

}  // namespace gander
