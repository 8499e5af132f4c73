// Run-time CPU feature checks that pick a kernel variant.
#pragma once

namespace gander {
bool cpu_has_avx512();       // F, BW, VL, DQ (the set the *_avx512.cpp kernels are built for)
bool cpu_has_avx512_bf16();
}  // namespace gander
