// Run-time CPU feature checks that pick a kernel variant.
#pragma once

namespace gander {
bool cpu_has_avx512();       // F, BW, VL, DQ (the set the *_avx512.cpp kernels are built for)
bool cpu_has_avx512_bf16();
// AMX tiles with bf16 products, and the kernel's permission to use the tile state (asked for once
// per process; GANDER_NO_AMX=1 turns the AMX kernels off).
bool cpu_has_amx_bf16();
}  // namespace gander
