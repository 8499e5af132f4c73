#include "models/runner.h"

#include "core/error.h"

namespace gander {

void Runner::start_batch(int64_t) {
  fail(architecture(), ": batched decoding is not implemented for this architecture yet");
}

void Runner::feed_batch(std::span<const int32_t>, Tensor&) {
  fail(architecture(), ": batched decoding is not implemented for this architecture yet");
}

}  // namespace gander
