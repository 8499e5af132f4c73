// How much memory a reader may build while it parses a file of untrusted size and shape.
#pragma once
#include <cstdint>
#include <string>

namespace gander::io {

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

}  // namespace gander::io
