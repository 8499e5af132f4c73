#include "io/memory_budget.h"

#include <algorithm>

#include "core/error.h"

namespace gander::io {

MemoryBudget::MemoryBudget(uint64_t file_bytes, std::string source)
    : file_bytes_(file_bytes), limit_(std::max(kFloor, file_bytes / 2)), source_(std::move(source)) {}

void MemoryBudget::charge(uint64_t bytes, const char* what) {
  GANDER_CHECK(bytes <= limit_ - used_, source_, ": ", what, " would take more than the ", limit_,
               " bytes of memory a file of ", file_bytes_, " bytes may use while it is read");
  used_ += bytes;
}

}  // namespace gander::io
