// The gradient checks of the op-test registry, one per op with a backward (op_registry() attaches
// each to its op's case). Every check compares the op's backward with central differences of its
// forward evaluated in double precision (tests/grad_check.h), and, where the op has a fast f32
// backward beside its reference, the two with each other.
#pragma once
#include "grad_check.h"
#include "op_registry.h"
#include "ops/elementwise.h"
#include "ops/wkv7.h"

namespace gander::test {

inline GradCheck differences_within(const FdResult& fd, double tolerance) {
  return {"finite differences", fd.worst, tolerance, fd.where};
}
inline GradCheck fast_within(double error, double tolerance) { return {"fast against reference", error, tolerance, ""}; }
// |a - b| relative to |b| (the reference), as an error to hold within a tolerance.
inline double relative(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-30); }

// grad_cases_basic.cpp
GradientCase activation_gradient(ops::Act a);
GradientCase lerp_gradient();
GradientCase group_norm_gradient();
GradientCase rms_norm_gradient();
GradientCase linear_gradient();
GradientCase cross_entropy_gradient();
// grad_cases_distill.cpp
GradientCase kl_divergence_gradient();
GradientCase l2_distance_gradient();
// grad_cases_sequence.cpp
GradientCase wkv7_gradient();
GradientCase wkv7_prepare_gradient(ops::Wkv7Keys keys);
GradientCase wkv7_output_gradient(bool group_norm, bool bonus);
GradientCase attention_gradient();
GradientCase rope_gradient();
GradientCase repeat_heads_gradient();
GradientCase gla_gradient();

}  // namespace gander::test
