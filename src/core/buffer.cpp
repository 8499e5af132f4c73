#include "core/buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "core/error.h"

namespace gander {

namespace {
// Buffers this large (weight matrices, long activations) are mapped directly: freeing them gives
// the memory back to the system at once (the C heap keeps freed blocks below its growing mmap
// threshold, which doubled the resident size while a model re-laid its weights), and they sit on
// 2 MiB boundaries where the kernel can back them with huge pages (fewer TLB misses while the
// decode kernels stream them).
constexpr size_t kMapThreshold = size_t(1) << 20;
constexpr size_t kHugePage = size_t(2) << 20;

std::byte* map_aligned(size_t bytes, size_t& mapped) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  mapped = (bytes + page - 1) / page * page;  // whole small pages: huge pages back only whole 2 MiB runs
  void* p = mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (base + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > base) munmap(p, aligned - base);
  const size_t tail = base + mapped + kHugePage - (aligned + mapped);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + mapped), tail);
#ifdef MADV_HUGEPAGE
  madvise(reinterpret_cast<void*>(aligned), mapped, MADV_HUGEPAGE);  // advisory; failure is harmless
#endif
  return reinterpret_cast<std::byte*>(aligned);
}
// Freed mappings kept for reuse while a MappingRecycler lives, by mapped size.
struct Recycled {
  std::mutex mu;
  std::multimap<size_t, std::byte*> free;
  size_t bytes = 0, limit = 0;
  int users = 0;
};
Recycled& recycled() {
  static Recycled r;
  return r;
}

std::byte* take_recycled(size_t mapped) {
  Recycled& r = recycled();
  std::lock_guard<std::mutex> lock(r.mu);
  const auto it = r.free.find(mapped);
  if (it == r.free.end()) return nullptr;
  std::byte* p = it->second;
  r.free.erase(it);
  r.bytes -= mapped;
  return p;
}

bool keep_recycled(std::byte* p, size_t mapped) {
  Recycled& r = recycled();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.users == 0 || r.bytes + mapped > r.limit) return false;
  r.free.emplace(mapped, p);
  r.bytes += mapped;
  return true;
}
}  // namespace

MappingRecycler::MappingRecycler(size_t limit) {
  Recycled& r = recycled();
  std::lock_guard<std::mutex> lock(r.mu);
  ++r.users;
  r.limit = std::max(r.limit, limit);
}

MappingRecycler::~MappingRecycler() {
  Recycled& r = recycled();
  std::lock_guard<std::mutex> lock(r.mu);
  if (--r.users > 0) return;
  for (const auto& [mapped, p] : r.free) munmap(p, mapped);
  r.free.clear();
  r.bytes = r.limit = 0;
}

AlignedBuffer::AlignedBuffer(size_t bytes) : size_(bytes) {
  // Checked first: the roundings below would wrap for sizes near 2^64.
  GANDER_CHECK(bytes <= kMaxBufferBytes, "cannot allocate ", bytes, " bytes: larger than any buffer can be (",
               kMaxBufferBytes, ")");
  if (bytes >= kMapThreshold) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    mapped_ = (bytes + page - 1) / page * page;
    ptr_ = take_recycled(mapped_);
    if (!ptr_) ptr_ = map_aligned(bytes, mapped_);
  } else {
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded == 0) rounded = kAlignment;
    ptr_ = static_cast<std::byte*>(std::aligned_alloc(kAlignment, rounded));
  }
  if (!ptr_) fail("out of memory allocating ", bytes, " bytes");
}

AlignedBuffer::~AlignedBuffer() {
  if (!mapped_) std::free(ptr_);
  else if (ptr_ && !keep_recycled(ptr_, mapped_)) munmap(ptr_, mapped_);
}

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever before fstat can refuse it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    fail(path, ": cannot stat: ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, ": not a regular file");
  }
  size_t size = size_t(st.st_size);
  std::byte* ptr = nullptr;
  if (size > 0) {
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      fail(path, ": cannot map: ", std::strerror(e));
    }
    ptr = static_cast<std::byte*>(p);
  }
  ::close(fd);
  return std::shared_ptr<MappedFile>(new MappedFile(path, ptr, size));
}

MappedFile::~MappedFile() {
  if (ptr_) munmap(ptr_, size_);
}

namespace {
// Drops the pages wholly inside [ptr + offset, ptr + offset + bytes): pages shared with the
// neighbours may hold data still in use. Failure only means the memory stays resident.
void drop_pages(std::byte* ptr, size_t size, size_t offset, size_t bytes) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(ptr) + offset + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(ptr) + std::min(size, offset + bytes)) / page * page;
  if (ptr && end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}
}  // namespace

void AlignedBuffer::release(size_t offset, size_t bytes) {
  if (mapped_) drop_pages(ptr_, size_, offset, bytes);
}

void MappedFile::release(size_t offset, size_t bytes) { drop_pages(ptr_, size_, offset, bytes); }

std::byte* MappedFile::mutable_data() { fail(path_, ": memory-mapped checkpoint data is read-only"); }

}  // namespace gander
