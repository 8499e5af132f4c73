// Seeded Gaussian tensors, filled in parallel: each 64K-element chunk draws from its own
// generator seeded from (seed, chunk start), so the result is the same for any thread count.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace gander {
Tensor random_normal(Shape shape, float std, DType dtype, uint64_t seed);
}
