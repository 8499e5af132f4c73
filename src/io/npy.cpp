#include "io/npy.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "io/atomic_file.h"

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
}  // namespace

Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  GANDER_CHECK(f, path, ": cannot open");
  char magic[8];
  f.read(magic, 8);
  GANDER_CHECK(f && std::memcmp(magic, "\x93NUMPY", 6) == 0, path, ": not a .npy file");
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    hlen = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  GANDER_CHECK(f && hlen < (1u << 20), path, ": bad .npy header");
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  std::smatch m;
  GANDER_CHECK(std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'")), path, ": .npy header lacks descr");
  const std::string descr = m[1];
  GANDER_CHECK(header.find("'fortran_order': False") != std::string::npos, path, ": Fortran-order arrays are not supported");
  GANDER_CHECK(std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")), path, ": .npy header lacks shape");
  Shape shape;
  std::stringstream ss(m[1].str());
  for (std::string item; std::getline(ss, item, ',');)
    if (item.find_first_not_of(" ") != std::string::npos) shape.push_back(std::stoll(item));
  DType dt;
  if (descr == "<f4") dt = DType::F32;
  else if (descr == "<f8") dt = DType::F64;
  else if (descr == "<i4") dt = DType::I32;
  else if (descr == "<i8") dt = DType::I64;
  else fail(path, ": unsupported .npy dtype '", descr, "'");
  Tensor t = Tensor::empty(dt, shape);
  f.read(static_cast<char*>(t.mutable_raw()), std::streamsize(t.nbytes()));
  GANDER_CHECK(f, path, ": truncated .npy data");
  return t;
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
