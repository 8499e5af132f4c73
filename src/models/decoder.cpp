#include "models/decoder.h"

#include <algorithm>

#include "models/batch_plan.h"
#include "ops/impl.h"
#include "ops/tiles.h"

namespace gander::models {

namespace {
// The names of each layer's two norms under every naming.
const Aliases kMixerNormWeight{{{"ln1.weight"}, {"attn_norm.weight"}, {"input_layernorm.weight"}}};
const Aliases kMixerNormBias{{{"ln1.bias"}, {"attn_norm.bias"}, {}}};
const Aliases kFfnNormWeight{{{"ln2.weight"}, {"ffn_norm.weight"}, {"post_attention_layernorm.weight"}}};
const Aliases kFfnNormBias{{{"ln2.bias"}, {"ffn_norm.bias"}, {}}};
const Aliases kFinalNormWeight{{{"ln_out.weight"}, {"model.norm.weight"}, {"model.norm.weight"}}};
const Aliases kFinalNormBias{{{"ln_out.bias"}, {"model.norm.bias"}, {}}};
}  // namespace

Decoder::Decoder(DecoderInfo info, Embedding embedding, std::vector<Layer> layers, Norm final_norm, Head head)
    : info_(std::move(info)),
      embedding_(std::move(embedding)),
      layers_(std::move(layers)),
      final_norm_(std::move(final_norm)),
      head_(std::move(head)),
      residual_slot_(scratch_slot("decoder.residual")),
      normed_slot_(scratch_slot("decoder.normed")),
      last_slot_(scratch_slot("decoder.last")) {
  table_.native = info_.native;
  ParamDecl top = ParamDecl::model(table_);
  embedding_.declare(top);
  auto layout = std::make_shared<StateLayout>();
  for (size_t l = 0; l < layers_.size(); ++l) {
    Layer& L = layers_[l];
    ParamDecl d = ParamDecl::layer(table_, int64_t(l));
    // The norms come first: the order RWKV-LM and Hugging Face files list them in, which the
    // weight fingerprints (and so every saved state file) were made with.
    L.mixer_norm.declare(d, kMixerNormWeight, kMixerNormBias);
    L.ffn_norm.declare(d, kFfnNormWeight, kFfnNormBias);
    L.mixer->declare(d);
    L.ffn->declare(d);
    StateDecl s(*layout, concat(info_.state_prefix, l, "."));
    L.mixer->declare_state(s);
    L.ffn->declare_state(s);
  }
  final_norm_.declare(top, kFinalNormWeight, kFinalNormBias);
  head_.declare(top);
  layout_ = std::move(layout);
}

void Decoder::finish() {
  GANDER_CHECK(!finished_, "internal: a decoder finished twice");
  for (const Param& p : table_.params)
    GANDER_CHECK(p.slot->defined(), "internal: parameter '", p.name, "' was not loaded or initialised");
  fingerprint_ = fingerprint_of(table_);  // of the row-major weights, before tiling
  const DType matrix_dtype = embedding_.table.dtype();
  if (head_.tied) {
    // The table is tiled once and serves both the lookup and the head; it is its sole owner
    // while tiling, so that the row-major copy is given back: never two copies of it.
    Tensor t = std::move(embedding_.table);
    embedding_.table = Tensor();
    ops::tile_if_supported(t);
    embedding_.table = head_.weight = t;
  }
  tile_params(table_, matrix_dtype);
  bytes_ = bytes_of(table_);
  count_ = count_of(table_);
  finished_ = true;
}

void Decoder::allow_training_forward() {
  GANDER_CHECK(!finished_, "internal: a finished decoder's weights are tiled; train a decoder that is not");
  for (const Param& p : table_.params)
    GANDER_CHECK(p.slot->dtype() == DType::F32 && p.slot->layout() == Layout::RowMajor, "internal: parameter '",
                 p.name, "' is not an f32 master weight");
  bytes_ = bytes_of(table_);
  count_ = count_of(table_);
  training_ = true;
}

int64_t Decoder::parameter_count() const { return info_.parameter_count > 0 ? info_.parameter_count : count_; }

StateOwner Decoder::state_owner() const { return {info_.state_file, info_.shape, fingerprint_, info_.max_positions}; }

int64_t Decoder::chunk(const RunOptions& opt) const {
  if (opt.chunk > 0) return opt.chunk;
  return opt.precision == ops::Precision::BF16 ? info_.chunk_bf16 : info_.chunk_f32;
}

double Decoder::decode_bytes(int64_t position, int64_t batch) const {
  // Every weight but the embedding table, of which one row is read (unless it is the head).
  const double weights = double(bytes_) - (head_.tied ? 0.0 : double(embedding_.table.nbytes()));
  double fixed = 0, per_position = 0;
  for (const StateEntry& e : layout_->entries()) (e.grows ? per_position : fixed) += double(shape_numel(e.shape)) * 4;
  return weights + double(batch) * (2 * fixed + per_position * double(position));
}

double Decoder::prefill_flops(int64_t n) const {
  const double head = double(vocab() * width());
  double flops = 2.0 * (double(count_) - head * (head_.tied ? 1 : 2)) * double(n) + 2.0 * head;
  for (const Layer& L : layers_) flops += L.mixer->extra_flops(n) + L.ffn->extra_flops(n);
  return flops;
}

void Decoder::check(std::span<const int32_t> ids, const SequenceState& state) const {
  GANDER_CHECK(finished_ || training_, "internal: forward through an unfinished decoder");
  GANDER_CHECK(!ids.empty(), "forward: no tokens to process");
  GANDER_CHECK(state.defined() && (state.shared_layout() == layout_ || state.layout() == *layout_),
               "forward: the state does not match the model ", info_.shape);
  for (int32_t id : ids)
    GANDER_CHECK(id >= 0 && id < vocab(), "token id ", id, " is out of range for this model's vocabulary of ", vocab());
}

void Decoder::forward(std::span<const SequenceInput> seqs, Workspace& ws, const RunOptions& opt, Tensor& logits,
                      bool all_logits) const {
  GANDER_CHECK(!seqs.empty(), "forward: no sequences");
  int64_t total = 0;
  for (const SequenceInput& q : seqs) {
    GANDER_CHECK(q.state, "forward: a sequence without a state");
    check(q.ids, *q.state);
    for (const SequenceInput& o : seqs)
      GANDER_CHECK(&o == &q || o.state != q.state, "forward: one state given for two sequences");
    total += int64_t(q.ids.size());
  }
  const Shape want = all_logits ? Shape{total, vocab()} : Shape{int64_t(seqs.size()), vocab()};
  if (!logits.defined() || logits.shape() != want) logits = Tensor::empty(DType::F32, want);
  const ops::ImplScope impl(opt.reference ? ops::Impl::Reference : ops::Impl::Fast);
  run_passes(
      seqs, chunk(opt), all_logits, logits,
      [](int64_t row0, int64_t rows, const SequenceInput& q) { return Segment{row0, rows, q.state}; },
      [&](const SequenceInput& q, Tensor& part) { forward_alone(q.ids, *q.state, ws, opt, part, all_logits); },
      [&](std::span<const int32_t> ids, std::span<const Segment> segs, Tensor& part) {
        run_pass(ids, segs, ws, opt, &part, all_logits, nullptr);
      });
}

// One sequence longer than a chunk: chunk by chunk, logits for every chunk or the last.
void Decoder::forward_alone(std::span<const int32_t> ids, SequenceState& state, Workspace& ws, const RunOptions& opt,
                            Tensor& logits, bool all_logits) const {
  const int64_t T = int64_t(ids.size()), step = chunk(opt);
  for (int64_t t0 = 0; t0 < T; t0 += step) {
    const int64_t n = std::min(step, T - t0);
    const Segment seg{0, n, &state};
    Tensor part = all_logits ? logits.rows(t0, n) : logits;
    run_pass(ids.subspan(size_t(t0), size_t(n)), {&seg, 1}, ws, opt, all_logits || t0 + n == T ? &part : nullptr,
             all_logits, nullptr);
  }
}

void Decoder::trace(std::span<const int32_t> ids, SequenceState& state, Workspace& ws, const RunOptions& opt,
                    Tensor& logits, Trace& trace) const {
  check(ids, state);
  logits = Tensor::empty(DType::F32, {int64_t(ids.size()), vocab()});
  trace = Trace{};
  const ops::ImplScope impl(opt.reference ? ops::Impl::Reference : ops::Impl::Fast);
  const Segment seg{0, int64_t(ids.size()), &state};
  run_pass(ids, {&seg, 1}, ws, opt, &logits, true, &trace);
}

void Decoder::run_pass(std::span<const int32_t> ids, std::span<const Segment> segs, Workspace& ws,
                       const RunOptions& opt, Tensor* logits, bool all_logits, Trace* trace) const {
  const int64_t T = int64_t(ids.size()), D = width();
  // Each row's position in its own sequence; growing states (KV caches) make room for the rows.
  std::vector<int64_t> positions;
  positions.reserve(size_t(T));
  for (const Segment& sg : segs) {
    const int64_t seen = sg.state->length();
    sg.state->reserve(seen + sg.rows);
    for (int64_t i = 0; i < sg.rows; ++i) positions.push_back(seen + i);
  }
  Tensor h = ws.get(residual_slot_, {T, D}), x = ws.get(normed_slot_, {T, D});
  embedding_.forward(ids, h);
  if (trace) trace->hidden.push_back(h.clone());
  Pass pass{T, segs, positions, opt.precision, &ws, &h, nullptr};
  for (const Layer& L : layers_) {
    L.mixer_norm.apply(h, x);
    Tensor out;
    if (trace) pass.record = &(out = Tensor::empty(DType::F32, {T, D}));
    L.mixer->forward(x, pass);
    pass.record = nullptr;
    if (trace) trace->mixer_out.push_back(out);
    L.ffn_norm.apply(h, x);
    L.ffn->forward(x, pass);
    if (trace) trace->hidden.push_back(h.clone());
  }
  for (const Segment& sg : segs) sg.state->set_length(sg.state->length() + sg.rows);
  if (!logits) return;
  Tensor rows = h;
  if (!all_logits) {  // each sequence's last row
    rows = ws.get(last_slot_, {int64_t(segs.size()), D});
    for (size_t i = 0; i < segs.size(); ++i)
      rows.rows(int64_t(i), 1).copy_from(h.rows(segs[i].row0 + segs[i].rows - 1, 1));
  }
  Tensor normed = ws.get(normed_slot_, rows.shape());
  final_norm_.apply(rows, normed);
  if (trace) trace->normed = normed.clone();
  ops::linear(normed, head_.tied ? embedding_.table : head_.weight, nullptr, *logits, opt.precision);
}

}  // namespace gander::models
