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
#include <vector>

#include "core/tensor.h"
#include "models/param_table.h"
#include "models/sequence_state.h"
#include "models/training.h"
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

// A training pass: B sequences of T tokens as one [B*T, width] stream (segment b = rows
// [b*T, (b+1)*T) and its state: the initial state going in, the final one after the forward).
struct TrainPass {
  int64_t rows = 0;
  std::span<const Segment> segments;
  Tensor* residual = nullptr;  // forward: the stream blocks add to
  Gradients* grads = nullptr;
  SequenceState* d_initial = nullptr;  // when set: the initial state's gradient, summed over sequences
  // Of the matrix products (forward and both backward ones): F32 exact; BF16 the operands rounded
  // to bf16 on the bf16 units with f32 accumulation (mixed precision; the rest stays f32).
  ops::Precision precision = ops::Precision::F32;
  // Tensors that flow from one layer to later ones (RWKV-7's value residual "v_first") and their
  // gradients, which the later layers' backward adds to before the first layer's runs.
  std::map<std::string, Tensor> carry, d_carry;
  Tensor& d_carried(const std::string& name, const Shape& shape);  // zeros at first use
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

  // Training (models/training.h), over whole sequences with f32 row-major weights: the forward
  // adds the output to *p.residual as forward() does and keeps in `tape` what backward needs;
  // backward takes the gradient at the output (the residual stream's), adds the gradient at the
  // input x to dx and the parameters' to p.grads. Blocks that cannot train yet say so.
  virtual void train_forward(const Tensor& x, TrainPass& p, Tape& tape) const;
  virtual void backward(const Tensor& d_out, TrainPass& p, const Tape& tape, Tensor& dx) const;
};

// Training helpers shared by blocks, each product at p.precision: a product (out = x . W^T + bias),
// the last product of a block (residual += x . W^T + bias) and their backward (dx += d_out . W;
// dW += d_out^T . x; dbias += column sums), skipping the parameter gradients of frozen parameters.
void train_linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, const TrainPass& p);
void train_emit(const Tensor& x, const Tensor& W, const Tensor* bias, TrainPass& p);
void linear_backward(const Tensor& x, const Tensor& W, const Tensor* bias, const Tensor& d_out, TrainPass& p,
                     Tensor* dx);
// Each row's position in its sequence for a training pass, which starts every sequence at
// position 0 (RoPE's angles); throws naming `who` for a sequence that has seen tokens.
std::vector<int64_t> train_positions(const TrainPass& p, const std::string& who);
// token_shift's backward: dx[t-1] += d_shifted[t] within each sequence; the first row's gradient
// belongs to the carried vector of the initial state (added into p.d_initial's entry, when set).
void token_shift_backward(const Tensor& d_shifted, Tensor& dx, const TrainPass& p, size_t carried);

// The token shift of RWKV blocks: per segment, shifted[t] = x[t-1], the first row from the
// sequence's carried vector (state entry `carried`), which then becomes the segment's last row.
void token_shift(const Tensor& x, Tensor& shifted, std::span<const Segment> segments, size_t carried);

}  // namespace gander::models
