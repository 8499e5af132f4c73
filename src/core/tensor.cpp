#include "core/tensor.h"

#include <cstring>
#include <sstream>

namespace gander {

std::string shape_str(const Shape& s) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  out << ']';
  return out.str();
}

namespace {
// The element count of s when every product of its non-zero dimensions times elem_size stays within
// kMaxBufferBytes (so that a zero dimension cannot hide a huge one); false otherwise.
bool checked_numel(const Shape& s, size_t elem_size, uint64_t& numel) {
  uint64_t nonzero = 1;
  bool empty = false;
  for (int64_t d : s) {
    if (d < 0) return false;
    if (d == 0) {
      empty = true;
      continue;
    }
    if (uint64_t(d) > kMaxBufferBytes / elem_size / nonzero) return false;
    nonzero *= uint64_t(d);
  }
  numel = empty ? 0 : nonzero;
  return true;
}

uint64_t numel_or_throw(const Shape& s, size_t elem_size) {
  uint64_t n = 0;
  if (!checked_numel(s, elem_size, n)) {
    for (int64_t d : s) GANDER_CHECK(d >= 0, "negative dimension in shape ", shape_str(s));
    fail("shape ", shape_str(s), " is too large: over ", kMaxBufferBytes, " bytes");
  }
  return n;
}
}  // namespace

int64_t shape_numel(const Shape& s) { return int64_t(numel_or_throw(s, 1)); }

size_t shape_nbytes(const Shape& s, DType t) { return size_t(numel_or_throw(s, dtype_size(t))) * dtype_size(t); }

bool shape_fits(const Shape& s, DType t) {
  uint64_t n = 0;
  return checked_numel(s, dtype_size(t), n);
}

Tensor Tensor::empty(DType dtype, Shape shape) {
  const size_t bytes = shape_nbytes(shape, dtype);
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.buffer_ = std::make_shared<AlignedBuffer>(bytes);
  return t;
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = empty(dtype, std::move(shape));
  t.fill_zero();
  return t;
}

Tensor Tensor::view(std::shared_ptr<Buffer> buffer, size_t offset, DType dtype, Shape shape) {
  const size_t bytes = shape_nbytes(shape, dtype);
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  GANDER_CHECK(offset <= buffer->size() && bytes <= buffer->size() - offset,
               "tensor view ", t.describe(), " at byte ", offset, " exceeds its buffer of ", buffer->size(), " bytes");
  t.buffer_ = std::move(buffer);
  t.offset_ = offset;
  return t;
}

Tensor Tensor::from_f32(const std::vector<float>& values, Shape shape) {
  Tensor t = empty(DType::F32, std::move(shape));
  GANDER_CHECK(size_t(t.numel()) == values.size(), "from_f32: ", values.size(), " values for shape ", shape_str(t.shape_));
  if (!values.empty()) std::memcpy(t.mutable_raw(), values.data(), values.size() * 4);  // data() may be null
  return t;
}

Tensor Tensor::with_layout(Layout layout, DType dtype, Shape shape, size_t storage_bytes) {
  shape_nbytes(shape, dtype);  // the shape must be valid whatever the layout's storage size
  Tensor t;
  t.dtype_ = dtype;
  t.layout_ = layout;
  t.shape_ = std::move(shape);
  t.buffer_ = std::make_shared<AlignedBuffer>(storage_bytes);
  return t;
}

void Tensor::release_storage() const {
  if (buffer_) buffer_->release(offset_, layout_ == Layout::RowMajor ? nbytes() : buffer_->size() - offset_);
}

void Tensor::check_row_major() const {
  GANDER_CHECK(layout_ == Layout::RowMajor, "tensor ", describe(), " is not in row-major order, as this use needs");
}

int64_t Tensor::dim(int i) const {
  int n = ndim();
  if (i < 0) i += n;
  GANDER_CHECK(i >= 0 && i < n, "dimension ", i, " out of range for ", describe());
  return shape_[size_t(i)];
}

Tensor Tensor::reshape(Shape shape) const {
  check_row_major();
  GANDER_CHECK(shape_fits(shape, dtype_) && shape_numel(shape) == numel(), "cannot reshape ", describe(), " to ",
               shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t count) const {
  check_row_major();
  // begin + count is not formed: it could overflow.
  GANDER_CHECK(ndim() >= 1 && begin >= 0 && count >= 0 && begin <= shape_[0] && count <= shape_[0] - begin, count,
               " rows from row ", begin, " are out of range for ", describe());
  Tensor t = *this;
  int64_t row_elems = shape_[0] ? numel() / shape_[0] : 0;
  t.offset_ += size_t(begin * row_elems) * dtype_size(dtype_);
  t.shape_[0] = count;
  return t;
}

Tensor Tensor::prefix(Shape shape) const {
  check_row_major();
  GANDER_CHECK(shape_fits(shape, dtype_) && shape_numel(shape) <= numel(), "cannot view ", describe(), " as the larger ",
               shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(dtype_, shape_);
  std::memcpy(t.mutable_raw(), raw(), nbytes());
  return t;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor t = empty(dtype, shape_);
  t.copy_from(*this);
  return t;
}

std::vector<float> Tensor::to_f32_vector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  convert_to_f32(dtype_, raw(), out.data(), out.size());
  return out;
}

void Tensor::copy_from(const Tensor& src) {
  GANDER_CHECK(src.shape_ == shape_, "copy: shape ", src.describe(), " does not match ", describe());
  if (src.dtype_ == dtype_) {
    std::memmove(mutable_raw(), src.raw(), nbytes());
  } else if (dtype_ == DType::F32) {
    convert_to_f32(src.dtype_, src.raw(), static_cast<float*>(mutable_raw()), size_t(numel()));
  } else {
    std::vector<float> tmp = src.to_f32_vector();
    convert_from_f32(dtype_, tmp.data(), mutable_raw(), tmp.size());
  }
}

void Tensor::fill_zero() { std::memset(mutable_raw(), 0, nbytes()); }

std::string Tensor::describe() const {
  return concat(dtype_name(dtype_), shape_str(shape_), layout_ == Layout::Tiles ? " in tiles" : "");
}

void Tensor::check_dtype(DType want) const {
  GANDER_CHECK(want == dtype_, "tensor is ", describe(), ", accessed as ", dtype_name(want));
}

void check_shape(const Tensor& t, const Shape& expected, const std::string& what) {
  GANDER_CHECK(t.defined(), what, ": missing tensor");
  GANDER_CHECK(t.shape() == expected, what, ": expected shape ", shape_str(expected), ", got ", shape_str(t.shape()));
}

}  // namespace gander
