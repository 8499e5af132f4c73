// NumPy .npy files (format 1.0/2.0, little-endian, C order): golden vectors in, logits out.
#pragma once
#include <string>

#include "core/tensor.h"

namespace gander::io {
// Reads <f4, <f8 (widened to... kept as f64), <i4, <i8 arrays into an owned tensor.
Tensor load_npy(const std::string& path);
// Writes an f32/i32/i64 tensor atomically.
void save_npy(const std::string& path, const Tensor& t);
}  // namespace gander::io
