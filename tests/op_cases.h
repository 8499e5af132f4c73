// Op-test cases defined outside op_registry.cpp, and the tolerances every case shares.
#pragma once
#include "op_registry.h"
#include "ops/wkv7.h"

namespace gander::test {

inline constexpr double kF32Tol = 1e-5;
// bf16 products round x to 8 significant bits: relative error ~2^-9 per product.
inline constexpr double kBf16Tol = 1e-2;

// op_cases_sequence.cpp
OpCase attention_case();
OpCase wkv7_case();
OpCase wkv7_portable_case();
OpCase wkv7_prepare_case(ops::Wkv7Keys keys);
OpCase wkv7_output_case(bool group_norm, bool bonus);
OpCase repeat_heads_case();

}  // namespace gander::test
