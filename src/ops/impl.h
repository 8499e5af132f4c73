// Which implementation the dispatching op functions call: the fast kernels (default) or the
// plain reference loops (`--reference` on the command line), so a model can be checked against
// the obviously-correct path end to end. Every op also exposes ops::ref::X and ops::fast::X
// directly; the op-test registry compares those two.
#pragma once

namespace gander::ops {
enum class Impl { Fast, Reference };
Impl impl();
void set_impl(Impl impl);
}  // namespace gander::ops
