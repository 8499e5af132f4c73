// Which implementation the dispatching op functions call: the fast kernels (default) or the
// plain reference loops (`--reference` on the command line), so a model can be checked against
// the obviously-correct path end to end. Every op also exposes ops::ref::X and ops::fast::X
// directly; the op-test registry compares those two.
//
// The choice belongs to the calling thread (ops dispatch before any parallel region), so two
// model contexts on two threads may run different implementations: a context sets it for the
// duration of each forward call with an ImplScope.
#pragma once

namespace gander::ops {
enum class Impl { Fast, Reference };
Impl impl();
void set_impl(Impl impl);  // for this thread

// Sets the implementation for a scope, restoring the previous one at its end.
class ImplScope {
 public:
  explicit ImplScope(Impl impl) : saved_(ops::impl()) { set_impl(impl); }
  ~ImplScope() { set_impl(saved_); }
  ImplScope(const ImplScope&) = delete;
  ImplScope& operator=(const ImplScope&) = delete;

 private:
  Impl saved_;
};
}  // namespace gander::ops
