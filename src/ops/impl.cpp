#include "ops/impl.h"

#include <atomic>

namespace gander::ops {
namespace {
std::atomic<Impl> g_impl{Impl::Fast};
}
Impl impl() { return g_impl.load(std::memory_order_relaxed); }
void set_impl(Impl impl) { g_impl.store(impl, std::memory_order_relaxed); }
}  // namespace gander::ops
