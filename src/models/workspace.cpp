#include "models/workspace.h"

#include <map>
#include <mutex>

namespace gander::models {

int scratch_slot(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, int> slots;
  std::lock_guard<std::mutex> lock(mu);
  const auto [it, added] = slots.emplace(name, int(slots.size()));
  return it->second;
}

Tensor Workspace::get(int slot, const Shape& shape) {
  if (size_t(slot) >= buffers_.size()) buffers_.resize(size_t(slot) + 1);
  Tensor& b = buffers_[size_t(slot)];
  const int64_t n = std::max<int64_t>(shape_numel(shape), 1);
  if (!b.defined() || b.numel() < n) b = Tensor::empty(DType::F32, {n});
  return b.prefix(shape);
}

int64_t Workspace::bytes() const {
  int64_t n = 0;
  for (const Tensor& b : buffers_) n += b.defined() ? int64_t(b.nbytes()) : 0;
  return n;
}

}  // namespace gander::models
