// Tensor: a dtype, a shape and a contiguous, row-major byte range inside a shared Buffer.
// Views (reshape, row ranges) share the buffer; nothing is copied unless asked (clone, to).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/dtype.h"
#include "core/error.h"

namespace gander {

using Shape = std::vector<int64_t>;
// The most dimensions a file may give a tensor (NumPy's limit); readers refuse more, which also
// keeps a shape's memory proportional to the few bytes that describe it.
inline constexpr size_t kMaxDims = 64;
std::string shape_str(const Shape& s);  // "[2, 64, 128]"
// Sizes derived from a shape are always checked: a negative dimension, or a product of the
// non-zero dimensions (times the element size) above kMaxBufferBytes, throws gander::Error naming
// the shape. Unchecked, a huge shape from a file or the command line wraps into a small allocation
// that is then written past. Every Tensor is built through these checks, so inside a Tensor any
// product of dimensions fits comfortably in int64.
int64_t shape_numel(const Shape& s);
size_t shape_nbytes(const Shape& s, DType t);
// The same test without throwing, for readers that word the error with their file's name.
bool shape_fits(const Shape& s, DType t);

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }

// How the elements lie in storage. Row-major is what every op reads. Tiles is the blocked order
// of a bf16 or f32 weight matrix that the matrix-product kernels stream fastest (ops/tiles.h);
// only the ops that know it read such a tensor, everything else refuses it.
enum class Layout : uint8_t { RowMajor, Tiles };

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised, 64-byte aligned storage.
  static Tensor empty(DType dtype, Shape shape);
  static Tensor zeros(DType dtype, Shape shape);
  // A view of bytes [offset, offset + nbytes) of an existing buffer (e.g. a mapped file); throws
  // if they do not lie inside it.
  static Tensor view(std::shared_ptr<Buffer> buffer, size_t offset, DType dtype, Shape shape);
  static Tensor from_f32(const std::vector<float>& values, Shape shape);
  // Uninitialised aligned storage of storage_bytes for a tensor of this shape in another layout.
  static Tensor with_layout(Layout layout, DType dtype, Shape shape, size_t storage_bytes);

  bool defined() const { return buffer_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return int(shape_.size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return shape_nbytes(shape_, dtype_); }  // of the elements, whatever the layout
  Layout layout() const { return layout_; }
  bool writable() const { return buffer_ && buffer_->writable(); }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }

  // Row-major elements (throws for another layout).
  const void* raw() const {
    check_row_major();
    return buffer_->data() + offset_;
  }
  void* mutable_raw() {
    check_row_major();
    return buffer_->mutable_data() + offset_;
  }
  // The storage in whatever layout, for the kernels that know it.
  const void* storage() const { return buffer_->data() + offset_; }
  void* mutable_storage() { return buffer_->mutable_data() + offset_; }
  // The caller promises that nothing reads this tensor's bytes again, through any view: the
  // buffer may give their pages back (see Buffer::release).
  void release_storage() const;
  template <typename T> const T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<const T*>(raw());
  }
  template <typename T> T* data() {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(mutable_raw());
  }
  // bf16/f16 elements as their bit patterns.
  const uint16_t* data_u16() const { return static_cast<const uint16_t*>(raw()); }

  Tensor reshape(Shape shape) const;
  Tensor rows(int64_t begin, int64_t count) const;  // view of a range along dim 0
  // A view of the first numel(shape) elements with a new shape (scratch buffers reused at any size).
  Tensor prefix(Shape shape) const;
  Tensor row(int64_t i) const { return rows(i, 1).reshape(Shape(shape_.begin() + 1, shape_.end())); }
  Tensor clone() const;
  Tensor to(DType dtype) const;           // converted copy (a plain copy if already that dtype)
  std::vector<float> to_f32_vector() const;
  void copy_from(const Tensor& src);      // same shape; converts dtype
  void fill_zero();

  std::string describe() const;  // "f32[2, 3]", "bf16[768, 768] in tiles"

 private:
  void check_dtype(DType want) const;
  void check_row_major() const;
  std::shared_ptr<Buffer> buffer_;
  size_t offset_ = 0;
  DType dtype_ = DType::F32;
  Layout layout_ = Layout::RowMajor;
  Shape shape_;
};

// Throws "<what>: expected shape [..], got [..]" when shapes differ.
void check_shape(const Tensor& t, const Shape& expected, const std::string& what);

}  // namespace gander
