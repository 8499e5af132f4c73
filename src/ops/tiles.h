// Tiled weights: the storage order of a [N, K] weight matrix that both of its products read
// best. The matrix is cut into blocks of 16 rows (the last one zero padded), each stored as one
// contiguous run of 64-byte lines along K, one line holding one column step of all 16 rows;
// blocks follow each other along N.
//   bf16: tiles of 16 rows x 32 columns (zero padded at the edges); a tile is 1 KB laid out as the
//         AMX bf16 B operand: line j holds, for each of the 16 rows n, the pair (W[n][2j], W[n][2j+1]).
//   f32:  line k of a block holds W[n0 .. n0 + 15][k] (a block is K lines, no column padding).
//
// Why: decoding streams the weights once per token. In row-major order a matrix-vector kernel
// walks several short rows side by side (K = 768 bf16 is 1.5 KB), a pattern the hardware
// prefetchers follow badly; over tiles every 16 outputs read one contiguous run of memory, and
// each 64-byte line yields 16 outputs' worth of products with no horizontal sums. Prefill loads
// the same tiles straight into the AMX units (bf16), or broadcasts inputs against whole lines in
// an FMA kernel (f32), with no per-call reorder of the weights.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/tensor.h"

namespace gander::ops {

inline constexpr int64_t kTileN = 16;               // rows of W per tile
inline constexpr int64_t kTileK = 32;               // columns of W per bf16 tile
inline constexpr int64_t kTileElems = kTileN * kTileK;
// (tile_blocks_k, tiled_elems and tiled_index count bf16 tiles; the f32 forms follow below.)

inline int64_t tile_blocks_n(int64_t N) { return (N + kTileN - 1) / kTileN; }
inline int64_t tile_blocks_k(int64_t K) { return (K + kTileK - 1) / kTileK; }
inline int64_t tiled_elems(int64_t N, int64_t K) { return tile_blocks_n(N) * tile_blocks_k(K) * kTileElems; }

// Position of W[n][k] in the tiled bf16 array.
inline int64_t tiled_index(int64_t K, int64_t n, int64_t k) {
  const int64_t tile = (n / kTileN) * tile_blocks_k(K) + k / kTileK;
  const int64_t kk = k % kTileK;
  return tile * kTileElems + (kk / 2) * (2 * kTileN) + (n % kTileN) * 2 + (kk % 2);
}
// The same for f32.
inline int64_t tiled_elems_f32(int64_t N, int64_t K) { return tile_blocks_n(N) * kTileN * K; }
inline int64_t tiled_index_f32(int64_t K, int64_t n, int64_t k) {
  return (n / kTileN) * kTileN * K + k * kTileN + n % kTileN;
}

// Whether matrix products run faster over tiles on this CPU (the tiled kernels need AVX-512).
bool tiles_supported();
// A bf16 or f32 [N, K] row-major matrix copied into tiles (Layout::Tiles); W is left as it is.
Tensor tile_matrix(const Tensor& W);
// Replaces W by its tiled copy where that helps: a bf16 or f32 row-major matrix on a CPU with
// the tiled kernels (anything else is left as it is). The row-major storage is given back while
// copying where that is safe (a mapped file, or memory only W refers to), so a model holds one copy.
void tile_if_supported(Tensor& W);
// Element [n, k] of an f32/bf16/f16 matrix in either layout, widened.
float matrix_at(const Tensor& W, int64_t n, int64_t k);
// Rows [n0, n0 + count) of a matrix in any layout and storage type, widened (exactly) to f32,
// row-major [count, K].
void matrix_rows(const Tensor& W, int64_t n0, int64_t count, float* out);

// Row-major bf16 [N, K] -> tiled (tiled_elems(N, K) values, padding zeroed). Parallel.
void pack_tiles(const uint16_t* W, int64_t N, int64_t K, uint16_t* tiled);
// Row-major f32 [N, K] -> tiled (tiled_elems_f32(N, K) values, padding zeroed). Parallel.
void pack_tiles_f32(const float* W, int64_t N, int64_t K, float* tiled);
// Rows [n0, n0 + count) of a tiled bf16 matrix widened to f32, row-major [count, K].
void unpack_tile_rows(const uint16_t* tiled, int64_t K, int64_t n0, int64_t count, float* out);

namespace detail {
struct InputRows;  // ops/linear.h
struct Epilogue;

// y[r, n] = x[r, :] . W[n, :] for n in [n_begin, n_end) (n_begin a multiple of kTileN), r < rows,
// f32 arithmetic on the exactly widened weights; y has row stride N.
void gemv_tiles_portable(const float* x, int64_t rows, const uint16_t* tiled, int64_t K, int64_t n_begin,
                         int64_t n_end, float* y, int64_t N);
void gemv_tiles_avx512(const float* x, int64_t rows, const uint16_t* tiled, int64_t K, int64_t n_begin,
                       int64_t n_end, float* y, int64_t N);
// y[M, N] = epilogue(bf16(in)[M, K] . W^T) on the AMX units (f32 accumulation), M = in.rows; the
// input mix is formed while x is rounded to bf16, the epilogue applied to each output tile while
// it is in L1. Only after cpu_has_amx_bf16().
void gemm_tiles_amx(const InputRows& in, const uint16_t* tiled, int64_t N, int64_t K, float* y, const Epilogue& e);

// The f32 forms: the same products over tiled f32 weights, f32 arithmetic throughout.
void gemv_tiles_f32_portable(const float* x, int64_t rows, const float* tiled, int64_t K, int64_t n_begin,
                             int64_t n_end, float* y, int64_t N);
void gemv_tiles_f32_avx512(const float* x, int64_t rows, const float* tiled, int64_t K, int64_t n_begin,
                           int64_t n_end, float* y, int64_t N);
// y[M, N] = epilogue(in[M, K] . W^T) with AVX-512 FMAs. Only after cpu_has_avx512().
void gemm_tiles_f32_avx512(const InputRows& in, const float* tiled, int64_t N, int64_t K, float* y,
                           const Epilogue& e);
}  // namespace detail

}  // namespace gander::ops
