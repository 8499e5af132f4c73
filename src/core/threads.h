// Thread control. Kernels parallelise with OpenMP over independent outputs (rows, heads), and
// every output element is reduced in a fixed order by one thread, so results do not depend on
// the thread count. The exception is oneDNN's GEMM for prefill-sized products, which may split
// the reduction dimension differently per thread count (float rounding only).
#pragma once

namespace gander {
int num_threads();
void set_num_threads(int n);  // n <= 0: all hardware threads
}  // namespace gander
