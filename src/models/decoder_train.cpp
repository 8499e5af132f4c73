// The decoder's training step: the forward over B x T rows keeping each layer's activations,
// the fused head and loss, then the backward layer by layer in reverse, next to each other as
// the forward and backward of the blocks are.
#include "models/decoder.h"
#include "ops/backward.h"
#include "ops/loss.h"

namespace gander::models {

double Decoder::train_step(const TrainBatch& b, Gradients& g, const TrainOptions& opt, SequenceState* d_initial) const {
  GANDER_CHECK(&g.table() == &table_, "train_step: gradients of another model");
  GANDER_CHECK(b.batch > 0 && b.seq > 0 && int64_t(b.ids.size()) == b.batch * b.seq &&
                   b.targets.size() == b.ids.size(),
               "train_step: ", b.ids.size(), " ids and ", b.targets.size(), " targets for ", b.batch, " sequences of ",
               b.seq);
  for (const Param& p : table_.params)
    GANDER_CHECK(p.slot->dtype() == DType::F32 && p.slot->layout() == Layout::RowMajor, "train_step: parameter '",
                 p.name, "' is ", p.slot->describe(), "; training needs f32 row-major weights");
  for (int32_t id : b.ids)
    GANDER_CHECK(id >= 0 && id < vocab(), "train_step: token id ", id, " is outside the vocabulary of ", vocab());
  const int64_t R = b.batch * b.seq, D = width(), L = n_layer();
  std::vector<SequenceState> states;
  std::vector<Segment> segs;
  states.reserve(size_t(b.batch));
  for (const SequenceState* st : {b.initial, static_cast<const SequenceState*>(d_initial)})
    GANDER_CHECK(!st || (st->defined() && st->layout() == *layout_ && st->length() == 0),
                 "train_step: an initial state that does not belong to this model (or has seen tokens)");
  for (int64_t s = 0; s < b.batch; ++s) {
    states.push_back(b.initial ? b.initial->clone() : SequenceState(layout_));
    states.back().reserve(b.seq);
    segs.push_back({s * b.seq, b.seq, &states.back()});
  }
  TrainPass p;
  p.rows = R;
  p.segments = segs;
  p.grads = &g;
  p.d_initial = d_initial;
  p.precision = opt.precision;

  // Forward, keeping each layer's residual stream before its two norms and the norms' outputs.
  Tensor looked_up = Tensor::empty(DType::F32, {R, D});
  Tensor x = Tensor::empty(DType::F32, {R, D});
  embedding_.train_forward(b.ids, looked_up, x);
  const size_t layers = size_t(L);
  std::vector<Tensor> x_in(layers), n_in(layers), x_mid(layers), n_mid(layers);
  std::vector<Tape> mixer_tape(layers), ffn_tape(layers);
  for (int64_t l = 0; l < L; ++l) {
    const Layer& layer = layers_[size_t(l)];
    x_in[size_t(l)] = x.clone();
    n_in[size_t(l)] = Tensor::empty(DType::F32, {R, D});
    layer.mixer_norm.apply(x, n_in[size_t(l)]);
    p.residual = &x;
    layer.mixer->train_forward(n_in[size_t(l)], p, mixer_tape[size_t(l)]);
    x_mid[size_t(l)] = x.clone();
    n_mid[size_t(l)] = Tensor::empty(DType::F32, {R, D});
    layer.ffn_norm.apply(x, n_mid[size_t(l)]);
    layer.ffn->train_forward(n_mid[size_t(l)], p, ffn_tape[size_t(l)]);
  }
  Tensor normed = Tensor::empty(DType::F32, {R, D});
  final_norm_.apply(x, normed);
  const Tensor& head = head_.tied ? embedding_.table : head_.weight;
  Tensor d_normed = Tensor::empty(DType::F32, {R, D});
  const double loss =
      ops::cross_entropy_head({normed, head, b.targets, opt.l2wrap, 256, opt.precision}, d_normed, g.of(head));

  // Backward: d_x is the gradient of the residual stream, walked back through the layers.
  Tensor d_x = Tensor::zeros(DType::F32, {R, D});
  final_norm_.backward(x, d_normed, d_x, g);
  for (int64_t l = L - 1; l >= 0; --l) {
    const Layer& layer = layers_[size_t(l)];
    Tensor d_n = Tensor::zeros(DType::F32, {R, D});
    layer.ffn->backward(d_x, p, ffn_tape[size_t(l)], d_n);
    layer.ffn_norm.backward(x_mid[size_t(l)], d_n, d_x, g);
    d_n.fill_zero();
    layer.mixer->backward(d_x, p, mixer_tape[size_t(l)], d_n);
    layer.mixer_norm.backward(x_in[size_t(l)], d_n, d_x, g);
    ffn_tape[size_t(l)] = {};
    mixer_tape[size_t(l)] = {};
  }
  embedding_.backward(b.ids, looked_up, d_x, g);
  return loss;
}

}  // namespace gander::models
