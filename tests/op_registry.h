// The op-test registry: every op registers how to build random inputs for a size tuple, how to run
// its reference and fast implementations, and the tolerance between them. One parameterised test
// walks the whole registry over each op's grid of (deliberately odd) sizes. The gradient slot is
// where finite-difference checks of the backward ops go when training lands.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace gander::test {

struct OpComparison {
  double max_abs_diff = 0;  // max |fast - ref|
  double ref_scale = 0;     // max |ref|
  double tolerance = 0;     // allowed max_abs_diff / max(ref_scale, 1e-30)
};

using Sizes = std::vector<int64_t>;

struct OpCase {
  std::string name;
  std::vector<Sizes> grid;
  std::function<OpComparison(const Sizes&, Rng&)> forward;
  std::function<OpComparison(const Sizes&, Rng&)> gradient;  // empty until the op has a backward
};

const std::vector<OpCase>& op_registry();

// Helpers for building cases.
Tensor random_tensor(Rng& rng, Shape shape, float scale = 1.0f, DType dtype = DType::F32);
// Accumulates the max difference between two f32 tensors into c.
void compare(const Tensor& fast, const Tensor& ref, OpComparison& c);
// One comparison of fast against ref, held to tolerance.
OpComparison compared(const Tensor& fast, const Tensor& ref, double tolerance);

}  // namespace gander::test
