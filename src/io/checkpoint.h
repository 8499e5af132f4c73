// A checkpoint as the models see it: named tensors (views into memory-mapped files where the
// format allows) plus string metadata, whatever the file format.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace gander::io {

// A name read from a file, for a one-line error message: in single quotes, control characters
// escaped as \xNN, cut after 200 bytes.
std::string quote_name(std::string_view name);

// The memory rule of every checkpoint reader: no input file may make gander use more than
// max(2 x its size, 64 MiB) beyond the model it describes. Reading may touch every page of the
// mapped file (1 x its size); what the reader builds while parsing (zip directory, pickle values,
// JSON tree, Checkpoint entries) gets the rest, max(kFloor, size / 2). Readers charge each
// allocation that grows with the input (at an upper estimate of its real cost) before making it,
// so a small hostile file is refused with an error instead of taking gigabytes.
class MemoryBudget {
 public:
  static constexpr uint64_t kFloor = uint64_t(24) << 20;
  MemoryBudget(uint64_t file_bytes, std::string source);
  // Throws "<source>: <what> would take more than the N bytes of memory a file of M bytes may use
  // while it is read".
  void charge(uint64_t bytes, const char* what);
  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }

 private:
  uint64_t file_bytes_, limit_, used_ = 0;
  std::string source_;
};

class Checkpoint {
 public:
  Checkpoint() = default;
  Checkpoint(std::string source, std::string format) : source_(std::move(source)), format_(std::move(format)) {}

  const std::string& source() const { return source_; }   // path, for error messages
  const std::string& format() const { return format_; }   // "safetensors", "pth", ...
  std::map<std::string, std::string>& metadata() { return metadata_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  void add(const std::string& name, Tensor t);  // throws on a duplicate name
  // An upper estimate of the memory add() takes for one tensor (for MemoryBudget::charge): the
  // name twice (map key and file order), the map node, the Tensor and its shape.
  static uint64_t entry_bytes(size_t name_size, size_t ndim) {
    return 320 + 2 * uint64_t(name_size) + 8 * uint64_t(ndim);
  }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const Tensor* find(const std::string& name) const;
  // Throws "<source>: missing tensor '<name>'".
  const Tensor& get(const std::string& name) const;
  const std::vector<std::string>& names() const { return order_; }  // file order
  size_t size() const { return order_.size(); }
  int64_t total_bytes() const;

 private:
  std::string source_, format_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, Tensor> tensors_;
  std::vector<std::string> order_;
};

// Opens .safetensors, a sharded model.safetensors.index.json (or a folder holding either), or a
// PyTorch .pth, chosen by what the path is and by the file's first bytes.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace gander::io
