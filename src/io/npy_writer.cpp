#include "io/npy_writer.h"

namespace gander::io {

std::string npy_header(const std::string& path, DType dtype, const Shape& shape) {
  const char* descr = nullptr;
  switch (dtype) {
    case DType::F32: descr = "<f4"; break;
    case DType::F64: descr = "<f8"; break;
    case DType::I32: descr = "<i4"; break;
    case DType::I64: descr = "<i8"; break;
    default: fail(path, ": cannot write ", dtype_name(dtype), " as .npy");
  }
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";  // "(5,)" but "(2, 3)"
  std::string dict = concat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", dims, "), }");
  // Version 1.0 holds a header of up to 65535 bytes; the data starts 64-byte aligned.
  const size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  GANDER_CHECK(dict.size() <= 65535, path, ": .npy header too long for shape ", shape_str(shape));
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xff);
  out += char(dict.size() >> 8);
  return out + dict;
}

NpyWriter::NpyWriter(const std::string& path, DType dtype, const Shape& shape)
    : path_(path), dtype_(dtype), shape_(shape), file_(path) {
  GANDER_CHECK(!shape.empty(), path, ": a .npy written by rows needs at least one dimension");
  const std::string header = npy_header(path, dtype, shape);
  file_.write(header.data(), header.size());
}

void NpyWriter::append(const Tensor& rows) {
  GANDER_CHECK(rows.dtype() == dtype_ && rows.ndim() == int(shape_.size()) &&
                   std::equal(shape_.begin() + 1, shape_.end(), rows.shape().begin() + 1),
               path_, ": rows ", rows.describe(), " do not fit an array ", dtype_name(dtype_), shape_str(shape_));
  GANDER_CHECK(rows_written_ + rows.dim(0) <= shape_[0], path_, ": more than the ", shape_[0], " rows announced");
  file_.write(rows.raw(), rows.nbytes());
  rows_written_ += rows.dim(0);
}

void NpyWriter::commit() {
  GANDER_CHECK(rows_written_ == shape_[0], path_, ": ", rows_written_, " of ", shape_[0], " rows written");
  file_.commit();
}

}  // namespace gander::io
