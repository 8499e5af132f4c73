// A checkpoint as the models see it: named tensors (views into memory-mapped files where the
// format allows) plus string metadata, whatever the file format.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "io/memory_budget.h"

namespace gander::io {

// A name read from a file, for a one-line error message: in single quotes, control characters
// escaped as \xNN, cut after 200 bytes.
std::string quote_name(std::string_view name);

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
