// Byte-exact writers of the file formats gander reads, for hand-made test files and fuzz seeds:
// a stored zip archive as torch.save writes it, the pickle opcodes of a torch state dict, a
// safetensors file from a header text, a .npy file from a header dict. They write what they are
// told, valid or not: the tests build hostile files with them. And gzip and zstd streams of a
// text (through zlib and libzstd), for the compressed inputs of `data build`.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <zlib.h>
#include <zstd.h>

namespace gander::test {

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

inline void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += char((v >> (8 * i)) & 0xff);
}

inline uint32_t crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// A stored (uncompressed) zip archive of the given files, in order.
inline std::string zip_archive(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out, central;
  for (auto& [name, data] : files) {
    const uint64_t offset = out.size();
    const uint32_t crc = crc32(data);
    out += "PK\x03\x04";
    put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, 0, 2);
    put_le(out, crc, 4), put_le(out, data.size(), 4), put_le(out, data.size(), 4), put_le(out, name.size(), 2);
    put_le(out, 0, 2);
    out += name + data;
    central += "PK\x01\x02";
    put_le(central, 20, 2), put_le(central, 20, 2), put_le(central, 0, 2), put_le(central, 0, 2);
    put_le(central, 0, 2), put_le(central, 0, 2), put_le(central, crc, 4), put_le(central, data.size(), 4);
    put_le(central, data.size(), 4), put_le(central, name.size(), 2), put_le(central, 0, 2), put_le(central, 0, 2);
    put_le(central, 0, 2), put_le(central, 0, 2), put_le(central, 0, 4), put_le(central, offset, 4);
    central += name;
  }
  const uint64_t cd = out.size();
  out += central + "PK\x05\x06";
  put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, files.size(), 2), put_le(out, files.size(), 2);
  put_le(out, central.size(), 4), put_le(out, cd, 4), put_le(out, 0, 2);
  return out;
}

// Pickle opcodes, appended one call at a time.
struct Pickle {
  std::string bytes = "\x80\x02";  // PROTO 2, as torch.save writes

  Pickle& op(char c) {
    bytes += c;
    return *this;
  }
  Pickle& str(const std::string& s) {  // BINUNICODE
    bytes += 'X';
    put_le(bytes, s.size(), 4);
    bytes += s;
    return *this;
  }
  Pickle& integer(int64_t v) {  // the smallest opcode that holds v, as pickle chooses
    if (v >= 0 && v < 256) {
      bytes += 'K';
      put_le(bytes, uint64_t(v), 1);
    } else if (v >= 0 && v < 65536) {
      bytes += 'M';
      put_le(bytes, uint64_t(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      bytes += 'J';
      put_le(bytes, uint64_t(v), 4);
    } else {
      bytes += "\x8a\x08";  // LONG1 of 8 bytes, two's complement
      put_le(bytes, uint64_t(v), 8);
    }
    return *this;
  }
  Pickle& global(const std::string& module, const std::string& name) {
    bytes += 'c' + module + '\n' + name + '\n';
    return *this;
  }
  Pickle& ints(const std::vector<int64_t>& values) {  // a tuple of integers
    op('(');
    for (int64_t v : values) integer(v);
    return op('t');
  }
};

// One tensor record of a torch state dict.
struct PickledTensorSpec {
  std::string name;
  std::string storage_type = "FloatStorage";
  std::string storage_key = "0";
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> shape, stride;  // an empty stride means the contiguous one
};

// The pickle torch.save emits for an OrderedDict of these tensors (protocol 2).
inline std::string state_dict_pickle(const std::vector<PickledTensorSpec>& tensors) {
  Pickle p;
  p.global("collections", "OrderedDict").op(')').op('R').op('(');
  for (const PickledTensorSpec& t : tensors) {
    std::vector<int64_t> stride = t.stride;
    if (stride.empty()) {
      stride.resize(t.shape.size());
      int64_t s = 1;
      for (size_t d = t.shape.size(); d-- > 0;) stride[d] = s, s *= t.shape[d];
    }
    p.str(t.name).global("torch._utils", "_rebuild_tensor_v2").op('(');
    p.op('(').str("storage").global("torch", t.storage_type).str(t.storage_key).str("cpu");
    p.integer(t.storage_numel).op('t').op('Q');
    p.integer(t.offset).ints(t.shape).ints(stride).op('\x89');
    p.global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
  }
  return p.op('u').op('.').bytes;
}

// A torch.save archive "m/..." holding the pickle and the storages (key, bytes).
inline std::string torch_archive(const std::string& pickle,
                                 const std::vector<std::pair<std::string, std::string>>& storages) {
  std::vector<std::pair<std::string, std::string>> files = {{"m/data.pkl", pickle}, {"m/byteorder", "little"}};
  for (auto& [key, bytes] : storages) files.emplace_back("m/data/" + key, bytes);
  files.emplace_back("m/version", "3\n");
  return zip_archive(files);
}

// A safetensors file: the 8-byte header length, the header text, then data_bytes of data.
inline std::string safetensors_bytes(const std::string& header, size_t data_bytes, char fill = '\x01') {
  std::string out;
  put_le(out, header.size(), 8);
  return out + header + std::string(data_bytes, fill);
}

// A .npy file from the header dict text, padded as numpy pads it, then the data: format 1.0, or
// 2.0 (a 4-byte header length) when the header needs it.
inline std::string npy_bytes(const std::string& dict, const std::string& data) {
  const int len_bytes = dict.size() + 64 < 65536 ? 2 : 4;
  std::string header = dict;
  header.append((64 - (8 + len_bytes + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(len_bytes == 2 ? 1 : 2);
  out += '\0';
  put_le(out, header.size(), len_bytes);
  return out + header + data;
}

// One gzip member holding `data`.
inline std::string gzip_bytes(const std::string& data) {
  std::string out(compressBound(uLong(data.size())) + 64, '\0');
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// One zstd frame holding `data`.
inline std::string zstd_bytes(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
  return out;
}

}  // namespace gander::test
