// The pieces a decoder is made of. A decoder is
//   embedding -> per layer { norm -> mixer -> += ; norm -> FFN -> += } -> norm -> head
// where each layer's mixer (softmax attention, the RWKV-7 time mix in its variants, later the
// RAD-RWKV6 GLA mixer) and FFN (SwiGLU, RWKV-7's channel mix) is a Block: it declares its
// parameters and its per-sequence state, and its forward reads the normed residual stream of a
// pass and adds its output to the stream. A pass holds the rows of one or more sequences
// (segments); matrix products run over all rows at once, recurrences and attention per segment.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "core/tensor.h"
#include "models/param_table.h"
#include "models/sequence_state.h"
#include "models/workspace.h"
#include "ops/linear.h"

namespace gander::models {

// Consecutive rows of one sequence within a pass; the sequence has seen `state->length()` tokens
// before them.
struct Segment {
  int64_t row0, rows;
  SequenceState* state;
};

struct Pass {
  int64_t rows = 0;  // all segments' rows
  std::span<const Segment> segments;
  std::span<const int64_t> positions;  // each row's position in its own sequence
  ops::Precision precision = ops::Precision::F32;
  Workspace* ws = nullptr;
  Tensor* residual = nullptr;  // [rows, width]: the stream blocks add to
  Tensor* record = nullptr;    // when tracing: receives the block's output as well
  bool one_segment() const { return segments.size() == 1; }
  Tensor scratch(int slot, const Shape& shape) const { return ws->get(slot, shape); }
  // A block's last product, added to the residual stream: residual += x . W^T (+ bias). Tracing,
  // the product goes into `record` first.
  void emit(const Tensor& x, const Tensor& W, const Tensor* bias = nullptr) const;
};

class Block {
 public:
  virtual ~Block() = default;
  virtual std::string describe() const = 0;  // for `inspect`: "RWKV-7 time mix (12 heads x 64)"
  // Its parameters, named relative to its layer under each naming. The order of declaration is
  // the weight fingerprint's order: keep it, or every saved state file stops loading.
  virtual void declare(ParamDecl& params) = 0;
  virtual void declare_state(StateDecl&) {}
  // x: this block's normed input [pass.rows, width]; adds the output to *pass.residual.
  virtual void forward(const Tensor& x, const Pass& pass) const = 0;
  // FLOPs of a prompt of n tokens beyond the matrix products (attention's scores).
  virtual double extra_flops(int64_t) const { return 0; }
};

// The token shift of RWKV blocks: per segment, shifted[t] = x[t-1], the first row from the
// sequence's carried vector (state entry `carried`), which then becomes the segment's last row.
void token_shift(const Tensor& x, Tensor& shifted, const Pass& pass, size_t carried);

}  // namespace gander::models
