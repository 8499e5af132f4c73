// The scratch activations of forward passes, kept by a context from one call to the next. Each
// block asks for its buffers by slot (a name given an index once, when the block is built); a
// slot's buffer grows to the largest size asked for and is reused, so a steady stream of calls
// allocates nothing. A slot keeps its contents while it is asked for at sizes that fit: this is
// how one layer leaves a tensor for the next (RWKV-7's value residual).
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace gander::models {

// The process-wide index of a scratch buffer's name ("time_mix7.r"); blocks that use the same name
// share the buffer, which is safe between blocks that run one after the other.
int scratch_slot(const std::string& name);

class Workspace {
 public:
  // A view of the slot's buffer with this shape (f32, uninitialised unless written before).
  Tensor get(int slot, const Shape& shape);
  int64_t bytes() const;

 private:
  std::vector<Tensor> buffers_;  // by slot, flat f32
};

}  // namespace gander::models
