#include "io/npy.h"

#include <cstring>
#include <memory>

#include "io/atomic_file.h"
#include "io/checkpoint.h"

namespace gander::io {

namespace {
const char* descr_of(DType t) {
  switch (t) {
    case DType::F32: return "<f4";
    case DType::F64: return "<f8";
    case DType::I32: return "<i4";
    case DType::I64: return "<i8";
    default: return nullptr;
  }
}

// The header is the repr of a Python dict, {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), },
// padded with spaces and a newline. This parser takes exactly that: the three keys once each,
// strings without escapes, True/False, a tuple of non-negative integers (Python 2's "3L" too).
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : s_(text), source_(source) {}

  struct Header {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
  };

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!next_is('}')) {
      const std::string_view key = string();
      expect(':');
      auto once = [&](bool& seen) {
        GANDER_CHECK(!seen, source_, ": .npy header gives ", quote_name(key), " twice");
        seen = true;
      };
      if (key == "descr") {
        once(have_descr);
        h.descr = std::string(string());
      } else if (key == "fortran_order") {
        once(have_order);
        h.fortran_order = boolean();
      } else if (key == "shape") {
        once(have_shape);
        h.shape = tuple();
      } else {
        fail(source_, ": .npy header has the unexpected key ", quote_name(key));
      }
      if (!next_is(',')) break;
      ++i_;
    }
    expect('}');
    skip_space();
    GANDER_CHECK(i_ == s_.size(), source_, ": .npy header has text after its dict");
    GANDER_CHECK(have_descr && have_order && have_shape, source_,
                 ": .npy header lacks one of 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const char* what) const { fail(source_, ": .npy header: ", what, " at byte ", i_); }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  // Skips spaces, then tells whether c comes next (not consuming it).
  bool next_is(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!next_is(c)) bad(concat("expected '", c, "'").c_str());
    ++i_;
  }
  std::string_view string() {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) bad("expected a quoted string");
    const char quote = s_[i_++];
    const size_t begin = i_;
    while (i_ < s_.size() && s_[i_] != quote) {
      // Only printable ASCII: the names and type codes numpy writes need nothing else.
      if (s_[i_] == '\\' || s_[i_] < ' ' || s_[i_] > '~') bad("unexpected character in a string");
      ++i_;
    }
    if (i_ >= s_.size()) bad("unterminated string");
    return s_.substr(begin, i_++ - begin);
  }
  bool boolean() {
    skip_space();
    for (auto [word, value] : {std::pair{std::string_view("True"), true}, {std::string_view("False"), false}})
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        return value;
      }
    bad("expected True or False");
  }
  int64_t dimension() {
    skip_space();
    const size_t begin = i_;
    uint64_t v = 0;
    bool too_large = false;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      too_large = too_large || v > (kMaxBufferBytes - 9) / 10;
      v = too_large ? v : v * 10 + uint64_t(s_[i_] - '0');
      ++i_;
    }
    if (i_ == begin) bad("expected a non-negative integer");
    // The digits as written: a value beyond 64 bits is reported as it stands, not wrapped.
    GANDER_CHECK(!too_large, source_, ": .npy shape entry ", s_.substr(begin, i_ - begin), " is too large");
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;
    return int64_t(v);
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    bool comma_after_last = false;
    while (!next_is(')')) {
      GANDER_CHECK(shape.size() < kMaxDims, source_, ": .npy shape has more than ", kMaxDims, " dimensions");
      shape.push_back(dimension());
      comma_after_last = next_is(',');
      if (!comma_after_last) break;
      ++i_;
    }
    expect(')');
    // "(5)" is the number 5 in Python, not a tuple.
    if (shape.size() == 1 && !comma_after_last) bad("a one-element shape needs its comma");
    return shape;
  }

  std::string_view s_;
  const std::string& source_;
  size_t i_ = 0;
};

uint64_t read_le(std::string_view b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t k = n; k-- > 0;) v = (v << 8) | uint8_t(b[at + k]);
  return v;
}

}  // namespace

Tensor parse_npy(std::string_view b, const std::string& source) {
  GANDER_CHECK(b.size() >= 8 && b.substr(0, 6) == "\x93NUMPY", source, ": not a .npy file");
  const int major = uint8_t(b[6]);
  GANDER_CHECK(major >= 1 && major <= 3, source, ": .npy format version ", major, " is not supported");
  const size_t len_bytes = major == 1 ? 2 : 4;  // 3.0 only allows UTF-8 in the header
  GANDER_CHECK(b.size() >= 8 + len_bytes, source, ": truncated .npy header");
  const uint64_t header_len = read_le(b, 8, len_bytes), header_at = 8 + len_bytes;
  GANDER_CHECK(header_len <= b.size() - header_at, source, ": .npy header of ", header_len,
               " bytes runs past the end of the file (", b.size(), " bytes)");
  const auto h = HeaderParser(b.substr(header_at, header_len), source).parse();
  GANDER_CHECK(!h.fortran_order, source, ": Fortran-order arrays are not supported");
  DType dt;
  if (h.descr == "<f4") dt = DType::F32;
  else if (h.descr == "<f8") dt = DType::F64;
  else if (h.descr == "<i4") dt = DType::I32;
  else if (h.descr == "<i8") dt = DType::I64;
  else fail(source, ": unsupported .npy dtype ", quote_name(h.descr));
  GANDER_CHECK(shape_fits(h.shape, dt), source, ": .npy shape ", shape_str(h.shape), " is too large");
  // Checked before allocating: the data must be exactly what the header describes.
  const uint64_t want = shape_nbytes(h.shape, dt), have = b.size() - header_at - header_len;
  GANDER_CHECK(have == want, source, ": ", have < want ? "truncated: " : "", ".npy data is ", have, " bytes, but ",
               dtype_name(dt), shape_str(h.shape), " takes ", want);
  Tensor t = Tensor::empty(dt, h.shape);
  if (want) std::memcpy(t.mutable_raw(), b.data() + header_at + header_len, want);
  return t;
}

Tensor load_npy(const std::string& path) {
  // Mapped, not read: MappedFile refuses anything but a regular file (a FIFO or /dev/zero would
  // never end) and the data is copied once, into the tensor.
  const std::shared_ptr<MappedFile> file = MappedFile::open(path);
  return parse_npy(std::string_view(reinterpret_cast<const char*>(file->data()), file->size()), path);
}

void save_npy(const std::string& path, const Tensor& t) {
  const char* descr = descr_of(t.dtype());
  GANDER_CHECK(descr, path, ": cannot write ", t.describe(), " as .npy");
  std::string shape;
  for (int64_t d : t.shape()) shape += std::to_string(d) + ", ";
  if (t.ndim() > 1) shape.resize(shape.size() - 1);  // "(2, 3)" but "(5,)"
  if (!shape.empty() && shape.back() == ' ') shape.pop_back();
  std::string header = concat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", shape, "), }");
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  AtomicFile f(path);
  const uint16_t hl = uint16_t(header.size());
  const char pre[10] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0, char(hl & 0xff), char(hl >> 8)};
  f.write(pre, 10);
  f.write(header.data(), header.size());
  f.write(t.raw(), t.nbytes());
  f.commit();
}

}  // namespace gander::io
