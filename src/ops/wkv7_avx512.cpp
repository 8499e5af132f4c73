// The WKV7 head kernel compiled for AVX-512 (see wkv7_head64.inc).
#include "ops/wkv7.h"

namespace gander::ops::detail {
namespace avx512_build {
#include "ops/wkv7_head64.inc"
}
void wkv7_head64_avx512(const float* r, const float* w, const float* k, const float* v, const float* a,
                        const float* b, int64_t T, int64_t stride, float* S, float* y) {
  avx512_build::head64(r, w, k, v, a, b, T, stride, S, y);
}
}  // namespace gander::ops::detail
