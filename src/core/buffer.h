// Byte storage behind tensors: 64-byte aligned heap memory, or a read-only memory-mapped file
// so that checkpoints are mapped, not copied.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

namespace gander {

class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual const std::byte* data() const = 0;
  virtual std::byte* mutable_data() = 0;  // throws for read-only storage
  virtual size_t size() const = 0;
  virtual bool writable() const = 0;
  // The caller promises that nothing reads bytes [offset, offset + bytes) again: storage that
  // can give whole pages of them back to the system does; the rest ignores it.
  virtual void release(size_t offset, size_t bytes) {}
};

inline constexpr size_t kAlignment = 64;
// No buffer (and so no tensor) may be larger: 256 TiB is beyond any machine's address space, so a
// larger size can only come from corrupt input, and below it every size sum and rounding we do
// stays far from overflowing 64 bits.
inline constexpr size_t kMaxBufferBytes = size_t(1) << 48;

class AlignedBuffer final : public Buffer {
 public:
  // Throws gander::Error for more than kMaxBufferBytes or when the memory is not there.
  explicit AlignedBuffer(size_t bytes);
  ~AlignedBuffer() override;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  const std::byte* data() const override { return ptr_; }
  std::byte* mutable_data() override { return ptr_; }
  size_t size() const override { return size_; }
  bool writable() const override { return true; }
  // Mapped (large) buffers drop the pages: they would read back as zeros.
  void release(size_t offset, size_t bytes) override;

 private:
  std::byte* ptr_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // bytes mapped with mmap (large buffers), 0 for heap memory
};

// While one of these lives, large buffers that are freed are kept, up to `limit` bytes in all,
// and handed to later allocations of the same size instead of being unmapped: a training step
// allocates the same activations at every step, and a fresh mapping costs a page fault and a
// zeroed page per 4 KiB touched (a seventh of a small model's step). When the last one goes,
// the kept buffers are unmapped. Recycled memory is not zeroed (Tensor::empty never promised it).
class MappingRecycler {
 public:
  explicit MappingRecycler(size_t limit);
  ~MappingRecycler();
  MappingRecycler(const MappingRecycler&) = delete;
  MappingRecycler& operator=(const MappingRecycler&) = delete;
};

class MappedFile final : public Buffer {
 public:
  // Maps the whole file read-only; throws gander::Error naming the path on failure.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile() override;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const std::byte* data() const override { return ptr_; }
  std::byte* mutable_data() override;
  size_t size() const override { return size_; }
  bool writable() const override { return false; }
  // Drops the whole pages inside the range from memory (madvise DONTNEED): the mapping stays
  // valid and would fault them back in from the file.
  void release(size_t offset, size_t bytes) override;
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, std::byte* ptr, size_t size) : path_(std::move(path)), ptr_(ptr), size_(size) {}
  std::string path_;
  std::byte* ptr_;
  size_t size_;
};

}  // namespace gander
