// The decoder's training step: the forward over B x T rows keeping each layer's activations,
// the fused head and loss, then the backward layer by layer in reverse, next to each other as
// the forward and backward of the blocks are.
#include "models/decoder.h"
#include "ops/backward.h"
#include "ops/loss.h"

namespace gander::models {

void Decoder::check_training(const TrainBatch& b, const SequenceState* d_initial) const {
  GANDER_CHECK(b.batch > 0 && b.seq > 0 && int64_t(b.ids.size()) == b.batch * b.seq &&
                   b.targets.size() == b.ids.size(),
               "train_step: ", b.ids.size(), " ids and ", b.targets.size(), " targets for ", b.batch, " sequences of ",
               b.seq);
  for (const Param& p : table_.params)
    GANDER_CHECK(p.slot->dtype() == DType::F32 && p.slot->layout() == Layout::RowMajor, "train_step: parameter '",
                 p.name, "' is ", p.slot->describe(), "; training needs f32 row-major weights");
  for (int32_t id : b.ids)
    GANDER_CHECK(id >= 0 && id < vocab(), "train_step: token id ", id, " is outside the vocabulary of ", vocab());
  for (const SequenceState* st : {b.initial, d_initial})
    GANDER_CHECK(!st || (st->defined() && st->layout() == *layout_ && st->length() == 0),
                 "train_step: an initial state that does not belong to this model (or has seen tokens)");
}

void Decoder::train_begin(const TrainBatch& b, Gradients* g, const TrainOptions& opt, SequenceState* d_initial,
                          TrainRun& run) const {
  run.states.reserve(size_t(b.batch));
  for (int64_t s = 0; s < b.batch; ++s) {
    run.states.push_back(b.initial ? b.initial->clone() : SequenceState(layout_));
    run.states.back().reserve(b.seq);
    run.segs.push_back({s * b.seq, b.seq, &run.states.back()});
  }
  TrainPass& p = run.pass;
  p.rows = b.batch * b.seq;
  p.segments = run.segs;
  p.grads = g;
  p.d_initial = d_initial;
  p.precision = opt.precision;
}

// Forward, keeping each layer's residual stream before its two norms and the norms' outputs.
void Decoder::train_forward(const TrainBatch& b, TrainRun& run, bool keep) const {
  const int64_t R = run.pass.rows, D = width();
  const size_t L = layers_.size();
  TrainPass& p = run.pass;
  run.looked_up = Tensor::empty(DType::F32, {R, D});
  run.x = Tensor::empty(DType::F32, {R, D});
  Tensor& x = run.x;
  embedding_.train_forward(b.ids, run.looked_up, x);
  if (keep) {
    run.x_in.resize(L), run.n_in.resize(L), run.x_mid.resize(L), run.n_mid.resize(L);
    run.mixer_tape.resize(L), run.ffn_tape.resize(L);
  }
  Tensor n = Tensor::empty(DType::F32, {R, D});
  for (size_t l = 0; l < L; ++l) {
    const Layer& layer = layers_[l];
    Tape mixer_tape, ffn_tape;
    if (keep) run.x_in[l] = x.clone(), n = run.n_in[l] = Tensor::empty(DType::F32, {R, D});
    layer.mixer_norm.apply(x, n);
    p.residual = &x;
    layer.mixer->train_forward(n, p, keep ? run.mixer_tape[l] : mixer_tape);
    if (keep) run.x_mid[l] = x.clone(), n = run.n_mid[l] = Tensor::empty(DType::F32, {R, D});
    layer.ffn_norm.apply(x, n);
    layer.ffn->train_forward(n, p, keep ? run.ffn_tape[l] : ffn_tape);
  }
  run.normed = Tensor::empty(DType::F32, {R, D});
  final_norm_.apply(x, run.normed);
}

// Backward: d_x is the gradient of the residual stream, walked back through the layers.
void Decoder::train_backward(const TrainBatch& b, TrainRun& run, const Tensor& d_normed, Gradients& g) const {
  const int64_t R = run.pass.rows, D = width();
  TrainPass& p = run.pass;
  Tensor d_x = Tensor::zeros(DType::F32, {R, D});
  final_norm_.backward(run.x, d_normed, d_x, g);
  for (int64_t l = n_layer() - 1; l >= 0; --l) {
    const Layer& layer = layers_[size_t(l)];
    Tensor d_n = Tensor::zeros(DType::F32, {R, D});
    layer.ffn->backward(d_x, p, run.ffn_tape[size_t(l)], d_n);
    layer.ffn_norm.backward(run.x_mid[size_t(l)], d_n, d_x, g);
    d_n.fill_zero();
    layer.mixer->backward(d_x, p, run.mixer_tape[size_t(l)], d_n);
    layer.mixer_norm.backward(run.x_in[size_t(l)], d_n, d_x, g);
    run.ffn_tape[size_t(l)] = {};
    run.mixer_tape[size_t(l)] = {};
  }
  embedding_.backward(b.ids, run.looked_up, d_x, g);
}

double Decoder::train_step(const TrainBatch& b, Gradients& g, const TrainOptions& opt, SequenceState* d_initial) const {
  GANDER_CHECK(&g.table() == &table_, "train_step: gradients of another model");
  check_training(b, d_initial);
  TrainRun run;
  train_begin(b, &g, opt, d_initial, run);
  train_forward(b, run, /*keep=*/true);
  const Tensor& head = head_matrix();
  Tensor d_normed = Tensor::empty(DType::F32, {run.pass.rows, width()});
  const double loss =
      ops::cross_entropy_head({run.normed, head, b.targets, opt.l2wrap, 256, opt.precision}, d_normed, g.of(head));
  train_backward(b, run, d_normed, g);
  return loss;
}

}  // namespace gander::models
