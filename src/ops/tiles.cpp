#include "ops/tiles.h"

#include <algorithm>
#include <cstring>

#include "core/cpu.h"
#include "core/dtype.h"
#include "core/error.h"

namespace gander::ops {

void pack_tiles(const uint16_t* W, int64_t N, int64_t K, uint16_t* tiled) {
  const int64_t nb = tile_blocks_n(N), kb = tile_blocks_k(K);
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    uint16_t* dst = tiled + b * kb * kTileElems;
    if (b * kTileN + kTileN <= N && K % kTileK == 0) {
      // A whole block: each row's column pair (k, k+1) moves as one 32-bit word into its line.
      auto* out = reinterpret_cast<uint32_t*>(dst);
      for (int64_t i = 0; i < kTileN; ++i) {
        const uint16_t* row = W + (b * kTileN + i) * K;
        for (int64_t t = 0; t < kb; ++t)
          for (int64_t j = 0; j < kTileK / 2; ++j) {
            uint32_t pair;
            std::memcpy(&pair, row + t * kTileK + 2 * j, sizeof(pair));
            out[t * (kTileElems / 2) + j * kTileN + i] = pair;
          }
      }
      continue;
    }
    std::memset(dst, 0, size_t(kb * kTileElems) * sizeof(uint16_t));
    for (int64_t i = 0; i < kTileN && b * kTileN + i < N; ++i) {
      const int64_t n = b * kTileN + i;
      const uint16_t* row = W + n * K;
      for (int64_t k = 0; k < K; ++k) dst[tiled_index(K, i, k)] = row[k];
    }
  }
}

void pack_tiles_f32(const float* W, int64_t N, int64_t K, float* tiled) {
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < tile_blocks_n(N); ++b) {
    float* dst = tiled + b * kTileN * K;
    const int64_t rows = std::min(kTileN, N - b * kTileN);
    if (rows < kTileN) std::fill(dst, dst + kTileN * K, 0.0f);
    for (int64_t i = 0; i < rows; ++i) {
      const float* row = W + (b * kTileN + i) * K;
      for (int64_t k = 0; k < K; ++k) dst[k * kTileN + i] = row[k];
    }
  }
}

bool tiles_supported() { return cpu_has_avx512(); }

namespace {
bool tileable(const Tensor& W) {
  return W.defined() && W.ndim() == 2 && W.layout() == Layout::RowMajor &&
         (W.dtype() == DType::BF16 || W.dtype() == DType::F32);
}

Tensor tile(const Tensor& W, bool release_source) {
  GANDER_CHECK(tileable(W), "tile_matrix: needs a row-major bf16 or f32 matrix, got ", W.describe());
  const int64_t N = W.dim(0), K = W.dim(1);
  const bool f32 = W.dtype() == DType::F32;
  const size_t bytes = f32 ? size_t(tiled_elems_f32(N, K)) * sizeof(float) : size_t(tiled_elems(N, K)) * sizeof(uint16_t);
  Tensor t = Tensor::with_layout(Layout::Tiles, W.dtype(), W.shape(), bytes);
  // In steps of ~4 MB, giving each step's source memory back as soon as it is copied, so that
  // re-laying a large matrix (a 65536-row head) never holds two copies of it.
  const int64_t step = std::max<int64_t>(1, (int64_t(4) << 20) / (K * int64_t(dtype_size(W.dtype())) * kTileN)) * kTileN;
  for (int64_t n0 = 0; n0 < N; n0 += step) {
    const int64_t rows = std::min(step, N - n0);
    if (f32) {
      pack_tiles_f32(W.data<float>() + n0 * K, rows, K, static_cast<float*>(t.mutable_storage()) + n0 * K);
    } else {
      pack_tiles(W.data_u16() + n0 * K, rows, K,
                 static_cast<uint16_t*>(t.mutable_storage()) + (n0 / kTileN) * tile_blocks_k(K) * kTileElems);
    }
    if (release_source) W.rows(n0, rows).release_storage();
  }
  return t;
}
}  // namespace

Tensor tile_matrix(const Tensor& W) { return tile(W, false); }

void tile_if_supported(Tensor& W) {
  if (!tiles_supported() || !tileable(W)) return;
  // The source may be dropped only where no one else can read it: pages of a mapped file come
  // back from the file if needed; memory of our own only when this tensor is its sole owner.
  const bool release = !W.writable() || W.buffer().use_count() == 1;
  W = tile(W, release);
}

float matrix_at(const Tensor& W, int64_t n, int64_t k) {
  const int64_t K = W.dim(1);
  const bool tiled = W.layout() == Layout::Tiles;
  if (W.dtype() == DType::F32)
    return static_cast<const float*>(W.storage())[tiled ? tiled_index_f32(K, n, k) : n * K + k];
  const auto* p = static_cast<const uint16_t*>(W.storage());
  const uint16_t v = tiled ? p[tiled_index(K, n, k)] : p[n * K + k];
  return W.dtype() == DType::F16 ? f16_to_f32(v) : bf16_to_f32(v);
}

void matrix_rows(const Tensor& W, int64_t n0, int64_t count, float* out) {
  GANDER_CHECK(W.ndim() == 2 && n0 >= 0 && count >= 0 && n0 + count <= W.dim(0), "matrix_rows: rows [", n0, ", ",
               n0 + count, ") of ", W.describe());
  const int64_t K = W.dim(1);
  if (W.layout() == Layout::RowMajor) {
    convert_to_f32(W.dtype(), static_cast<const std::byte*>(W.raw()) + size_t(n0 * K) * dtype_size(W.dtype()), out,
                   size_t(count * K));
  } else if (W.dtype() == DType::F32) {
    const auto* p = static_cast<const float*>(W.storage());
    for (int64_t i = 0; i < count; ++i)
      for (int64_t k = 0; k < K; ++k) out[i * K + k] = p[tiled_index_f32(K, n0 + i, k)];
  } else {
    unpack_tile_rows(static_cast<const uint16_t*>(W.storage()), K, n0, count, out);
  }
}

void unpack_tile_rows(const uint16_t* tiled, int64_t K, int64_t n0, int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i)
    for (int64_t k = 0; k < K; ++k) out[i * K + k] = bf16_to_f32(tiled[tiled_index(K, n0 + i, k)]);
}

namespace detail {
void gemv_tiles_portable(const float* x, int64_t rows, const uint16_t* tiled, int64_t K, int64_t n_begin,
                         int64_t n_end, float* y, int64_t N) {
  const int64_t kb = tile_blocks_k(K);
  for (int64_t n0 = n_begin; n0 < n_end; n0 += kTileN) {
    const uint16_t* block = tiled + (n0 / kTileN) * kb * kTileElems;
    for (int64_t r = 0; r < rows; ++r) {
      float acc[kTileN] = {};
      for (int64_t t = 0; t < kb; ++t)
        for (int64_t j = 0; j < kTileK / 2; ++j) {
          const int64_t k = t * kTileK + 2 * j;
          if (k >= K) break;
          const float x0 = x[r * K + k], x1 = k + 1 < K ? x[r * K + k + 1] : 0.0f;
          const uint16_t* line = block + t * kTileElems + j * 2 * kTileN;
          for (int64_t i = 0; i < kTileN; ++i)
            acc[i] += bf16_to_f32(line[2 * i]) * x0 + bf16_to_f32(line[2 * i + 1]) * x1;
        }
      for (int64_t i = 0; i < kTileN && n0 + i < n_end; ++i) y[r * N + n0 + i] = acc[i];
    }
  }
}

void gemv_tiles_f32_portable(const float* x, int64_t rows, const float* tiled, int64_t K, int64_t n_begin,
                             int64_t n_end, float* y, int64_t N) {
  for (int64_t n0 = n_begin; n0 < n_end; n0 += kTileN) {
    const float* block = tiled + (n0 / kTileN) * kTileN * K;
    for (int64_t r = 0; r < rows; ++r) {
      float acc[kTileN] = {};
      for (int64_t k = 0; k < K; ++k)
#pragma omp simd
        for (int64_t i = 0; i < kTileN; ++i) acc[i] += block[k * kTileN + i] * x[r * K + k];
      for (int64_t i = 0; i < kTileN && n0 + i < n_end; ++i) y[r * N + n0 + i] = acc[i];
    }
  }
}
}  // namespace detail

}  // namespace gander::ops
