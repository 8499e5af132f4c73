// Writing a .npy file (format 1.0, little-endian, C order) row block by row block, so that an
// array larger than memory can be produced: the shape is fixed up front and every row must be
// appended before commit(). Atomic like every output (io/atomic_file.h).
#pragma once
#include <string>

#include "core/tensor.h"
#include "io/atomic_file.h"

namespace gander::io {

class NpyWriter {
 public:
  // dtype: f32, f64, i32 or i64.
  NpyWriter(const std::string& path, DType dtype, const Shape& shape);
  // Rows along dimension 0: `rows` has the file's shape apart from its first dimension.
  void append(const Tensor& rows);
  void commit();  // throws unless exactly shape[0] rows were appended

 private:
  std::string path_;
  DType dtype_;
  Shape shape_;
  int64_t rows_written_ = 0;
  AtomicFile file_;
};

// The .npy header (magic, version, length and the padded dict) for an array of this type and shape.
std::string npy_header(const std::string& path, DType dtype, const Shape& shape);

}  // namespace gander::io
