// Crash-safe file replacement: write to a temp file in the same folder, fsync, rename over the
// target, fsync the folder. A reader sees the old file or the new one, never a torn one.
#pragma once
#include <functional>
#include <string>

namespace gander::io {
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temp file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};
}  // namespace gander::io
