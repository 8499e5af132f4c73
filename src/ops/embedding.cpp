#include "ops/embedding.h"

#include "ops/checks.h"
#include "ops/tiles.h"

namespace gander::ops {

// A row copy with exact widening has no faster formulation worth a second implementation.
void embedding(const Tensor& table, std::span<const int32_t> ids, Tensor& out) {
  GANDER_CHECK(table.ndim() == 2, "embedding: table must be a matrix, got ", table.describe());
  const int64_t V = table.dim(0), C = table.dim(1), T = int64_t(ids.size());
  require_f32(out, "embedding", "out");
  GANDER_CHECK(out.numel() == T * C && out.dim(-1) == C, "embedding: output ", out.describe(), " does not fit ", T,
               " ids of width ", C);
  float* po = out.data<float>();
  for (int32_t id : ids) GANDER_CHECK(id >= 0 && id < V, "token id ", id, " is out of range for a vocabulary of ", V);
  if (table.layout() == Layout::Tiles) {  // a tied embedding shared with a tiled output head
    for (int64_t t = 0; t < T; ++t) matrix_rows(table, ids[size_t(t)], 1, po + t * C);
    return;
  }
  const size_t row_bytes = size_t(C) * dtype_size(table.dtype());
  const auto* base = static_cast<const std::byte*>(table.raw());
  for (int64_t t = 0; t < T; ++t)
    convert_to_f32(table.dtype(), base + size_t(ids[size_t(t)]) * row_bytes, po + t * C, size_t(C));
}

}  // namespace gander::ops
