// Embedding lookup: out[t, :] = table[ids[t], :] widened to f32. Ids are range-checked.
#pragma once
#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace gander::ops {
void embedding(const Tensor& table, std::span<const int32_t> ids, Tensor& out);
}  // namespace gander::ops
