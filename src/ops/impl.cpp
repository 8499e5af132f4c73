#include "ops/impl.h"

namespace gander::ops {
namespace {
thread_local Impl t_impl = Impl::Fast;
}
Impl impl() { return t_impl; }
void set_impl(Impl impl) { t_impl = impl; }
}  // namespace gander::ops
