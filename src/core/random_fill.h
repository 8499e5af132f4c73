// Seeded Gaussian tensors, filled in parallel: each 64K-element chunk draws from its own
// generator seeded from (seed, chunk start), so the result is the same for any thread count.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace gander {
Tensor random_normal(Shape shape, float std, DType dtype, uint64_t seed);
// torch.nn.init.orthogonal_ in f32: the first dimension against the rest flattened; of a random
// Gaussian matrix, its rows (if fewer) or columns made orthonormal - QR with the signs of R's
// diagonal taken out, which Gram-Schmidt gives directly - times `gain`. Deterministic for any
// thread count.
Tensor random_orthogonal(Shape shape, float gain, uint64_t seed);
}
