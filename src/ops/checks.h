// Shape and dtype validation shared by the op entry points.
#pragma once
#include "core/tensor.h"

namespace gander::ops {

inline void require_f32(const Tensor& t, const char* op, const char* arg) {
  GANDER_CHECK(t.defined(), op, ": argument '", arg, "' is missing");
  GANDER_CHECK(t.dtype() == DType::F32, op, ": argument '", arg, "' must be f32, got ", t.describe());
}

// Interprets t as a matrix [rows, cols] where cols is the last dimension.
inline int64_t rows_of(const Tensor& t) { return t.ndim() == 0 ? 1 : t.numel() / t.dim(-1); }

inline void require_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  GANDER_CHECK(a.shape() == b.shape(), op, ": shapes differ: ", a.describe(), " vs ", b.describe());
}

inline void require_numel(const Tensor& t, int64_t n, const char* op, const char* arg) {
  GANDER_CHECK(t.numel() == n, op, ": argument '", arg, "' must have ", n, " elements, got ", t.describe());
}

}  // namespace gander::ops
