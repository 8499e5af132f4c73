// The op-test registry: every op registers how to build random inputs for a size tuple, how to run
// its reference and fast implementations, and the tolerance between them. One parameterised test
// walks the whole registry over each op's grid of (deliberately odd) sizes. An op with a backward
// also holds a gradient check (tests/grad_cases.h): its backward against central differences of
// its forward in double precision, and its fast backward against the reference, over a grid of
// its own (smaller: every sampled difference evaluates the whole forward).
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

// One criterion of a gradient check: `error` (already relative) within `tolerance`.
struct GradCheck {
  std::string what;   // "finite differences", "fast against reference", ...
  double error = 0, tolerance = 0;
  std::string where;  // the worst element, where known
};

struct GradientCase {
  std::vector<Sizes> grid;
  std::function<std::vector<GradCheck>(const Sizes&, Rng&)> check;
};

struct OpCase {
  std::string name;
  std::vector<Sizes> grid;  // empty for an op that only has a backward (a loss)
  std::function<OpComparison(const Sizes&, Rng&)> forward;
  GradientCase gradient;    // empty grid for an op without a backward
};

const std::vector<OpCase>& op_registry();

// Helpers for building cases.
Tensor random_tensor(Rng& rng, Shape shape, float scale = 1.0f, DType dtype = DType::F32);
// Accumulates the max difference between two f32 tensors into c.
void compare(const Tensor& fast, const Tensor& ref, OpComparison& c);
// One comparison of fast against ref, held to tolerance.
OpComparison compared(const Tensor& fast, const Tensor& ref, double tolerance);

}  // namespace gander::test
