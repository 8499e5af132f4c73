#include "io/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/pth.h"
#include "io/read_file.h"
#include "io/safetensors.h"

namespace gander::io {

std::string quote_name(std::string_view name) {
  constexpr size_t kMaxShown = 200;
  std::string out = "'";
  for (unsigned char c : name.substr(0, kMaxShown)) {
    if (c < 0x20 || c == 0x7f) {
      const char* hex = "0123456789abcdef";
      out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
    } else {
      out += char(c);
    }
  }
  out += name.size() > kMaxShown ? "'..." : "'";
  return out;
}

void Checkpoint::add(const std::string& name, Tensor t) {
  GANDER_CHECK(!tensors_.count(name), source_, ": tensor ", quote_name(name), " appears twice");
  tensors_.emplace(name, std::move(t));
  order_.push_back(name);
}

const Tensor* Checkpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const Tensor& Checkpoint::get(const std::string& name) const {
  const Tensor* t = find(name);
  GANDER_CHECK(t, source_, ": missing tensor '", name, "'");
  return *t;
}

int64_t Checkpoint::total_bytes() const {
  int64_t n = 0;
  for (auto& [name, t] : tensors_) n += int64_t(t.nbytes());
  return n;
}

Checkpoint load_checkpoint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  GANDER_CHECK(fs::exists(path, ec), path, ": no such file or folder");
  if (fs::is_directory(path, ec)) {
    const fs::path dir(path);
    // The error_code overloads: the throwing ones let std::filesystem_error out (e.g. EACCES).
    const fs::path index = dir / "model.safetensors.index.json", single = dir / "model.safetensors";
    if (fs::exists(index, ec)) return load_safetensors_index(index.string());
    if (fs::exists(single, ec)) return load_safetensors(single.string());
    fail(path, ": folder holds neither model.safetensors nor model.safetensors.index.json");
  }
  if (path.size() >= 11 && path.ends_with(".index.json")) return load_safetensors_index(path);
  check_regular_file(path, "checkpoint");  // a FIFO would block the read below
  char magic[4] = {};
  {
    std::ifstream f(path, std::ios::binary);
    GANDER_CHECK(f, path, ": cannot open");
    f.read(magic, 4);
  }
  if (std::memcmp(magic, "PK\x03\x04", 4) == 0) return load_pth(path);
  if (path.ends_with(".safetensors") || path.ends_with(".st")) return load_safetensors(path);
  if (path.ends_with(".pth") || path.ends_with(".pt")) return load_pth(path);  // will report the bad magic
  return load_safetensors(path);
}

}  // namespace gander::io
