// NumPy .npy files (format 1.0-3.0, little-endian, C order): golden vectors in, logits out.
#pragma once
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace gander::io {
// Reads <f4, <f8, <i4, <i8 arrays (f64 stays f64) into an owned tensor. The file must be a regular
// file whose size is exactly what its header describes; errors name the path.
Tensor load_npy(const std::string& path);
// The same on bytes in memory (the fuzz target); `source` names them in errors.
Tensor parse_npy(std::string_view bytes, const std::string& source);
// Writes an f32/i32/i64 tensor atomically.
void save_npy(const std::string& path, const Tensor& t);
}  // namespace gander::io
