// Writes small, valid seed inputs for each fuzz target under <root>/<target>/, so fuzzing starts
// from files that reach deep into each parser without shipping binary fixtures in the repo.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace {

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

uint32_t crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += char((v >> (8 * i)) & 0xff);
}

// A stored (uncompressed) zip archive, as torch.save writes.
std::string zip(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out, central;
  for (auto& [name, data] : files) {
    const uint64_t offset = out.size();
    const uint32_t crc = crc32(data);
    out += "PK\x03\x04";
    le(out, 20, 2), le(out, 0, 2), le(out, 0, 2), le(out, 0, 2), le(out, 0, 2);
    le(out, crc, 4), le(out, data.size(), 4), le(out, data.size(), 4), le(out, name.size(), 2), le(out, 0, 2);
    out += name + data;
    central += "PK\x01\x02";
    le(central, 20, 2), le(central, 20, 2), le(central, 0, 2), le(central, 0, 2), le(central, 0, 2), le(central, 0, 2);
    le(central, crc, 4), le(central, data.size(), 4), le(central, data.size(), 4), le(central, name.size(), 2);
    le(central, 0, 2), le(central, 0, 2), le(central, 0, 2), le(central, 0, 2), le(central, 0, 4), le(central, offset, 4);
    central += name;
  }
  const uint64_t cd = out.size();
  out += central + "PK\x05\x06";
  le(out, 0, 2), le(out, 0, 2), le(out, files.size(), 2), le(out, files.size(), 2), le(out, central.size(), 4);
  le(out, cd, 4), le(out, 0, 2);
  return out;
}

// The pickle torch.save emits for {"w": bf16 tensor [2, 3], "b": f32 tensor [3]} (protocol 2).
std::string pickle() {
  std::string p = "\x80\x02}q";
  p += '\0';  // BINPUT 0
  p += '(';
  auto str = [&](const std::string& s) {
    p += 'X';
    le(p, s.size(), 4);
    p += s;
  };
  auto tensor = [&](const std::string& name, const char* storage, const char* key, int numel,
                    std::vector<int> shape) {
    str(name);
    p += "ctorch._utils\n_rebuild_tensor_v2\n((";
    str("storage");
    p += std::string("ctorch\n") + storage + "\n";
    str(key);
    str("cpu");
    p += 'K', p += char(numel), p += "tQK";
    p += '\0';  // storage offset 0
    p += '(';
    for (int s : shape) p += 'K', p += char(s);
    p += "t(";
    int stride = 1;
    std::vector<int> strides(shape.size());
    for (size_t d = shape.size(); d-- > 0;) strides[d] = stride, stride *= shape[d];
    for (int s : strides) p += 'K', p += char(s);
    p += "t\x89" "ccollections\nOrderedDict\n)RtR";
  };
  tensor("w", "BFloat16Storage", "0", 6, {2, 3});
  tensor("b", "FloatStorage", "1", 3, {3});
  p += "u.";
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "corpus";
  for (const char* d : {"safetensors", "pth", "vocab"}) std::filesystem::create_directories(root + "/" + d);

  gander::Tensor a = gander::Tensor::from_f32({1, 2, 3, 4, 5, 6}, {2, 3});
  gander::io::save_safetensors(root + "/safetensors/seed1.safetensors", {{"a", a}, {"b", a.to(gander::DType::BF16)}},
                               {{"format", "pt"}});
  gander::io::save_safetensors(root + "/safetensors/seed2.safetensors", {{"x", a.reshape({6}).to(gander::DType::F16)}});

  std::string w(12, '\x01'), b(12, '\x02');
  write(root + "/pth/seed1.pth", zip({{"m/data.pkl", pickle()}, {"m/byteorder", "little"}, {"m/data/0", w},
                                      {"m/data/1", b}, {"m/version", "3\n"}}));

  std::string vocab;
  for (int i = 0; i < 256; ++i) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", i);
    vocab += std::to_string(i + 1) + " b'" + hex + "' 1\n";
  }
  vocab += "257 'ab' 2\n258 'abc' 3\n259 '\\u4f60' 3\n260 'x y' 3\n";
  write(root + "/vocab/seed1.txt", vocab);
  return 0;
}
