#include "models/runner.h"

#include "core/error.h"
#include "models/state_file.h"

namespace gander {

Runner::Runner(std::shared_ptr<const models::Decoder> model, models::SequenceState initial, models::RunOptions options)
    : ctx_(std::move(model), options), initial_(std::move(initial)), main_(ctx_.join(initial_.clone())) {}

int64_t Runner::context_room() const {
  const int64_t limit = context_limit();
  return limit > 0 ? limit - ctx_.state(main_).length() : std::numeric_limits<int64_t>::max();
}

void Runner::feed(std::span<const int32_t> ids, Tensor& logits, bool all_logits) {
  ctx_.forward(main_, ids, logits, all_logits);
}

void Runner::reset() {
  ctx_.state(main_) = initial_.clone();
  ++epoch_;
}

std::unique_ptr<Runner::Snapshot> Runner::snapshot() const {
  const models::SequenceState& s = ctx_.state(main_);
  auto snap = std::make_unique<Snapshot>();
  snap->length = s.length();
  snap->epoch = epoch_;
  const auto& es = s.layout().entries();
  for (size_t i = 0; i < es.size(); ++i) snap->fixed.push_back(es[i].grows ? Tensor() : s.at(i).clone());
  return snap;
}

void Runner::restore(const Snapshot& snap) {
  models::SequenceState& s = ctx_.state(main_);
  if (s.layout().has_growing())
    GANDER_CHECK(snap.epoch == epoch_ && snap.length <= s.length(),
                 "cannot go back to an earlier point: the KV cache was reset or replaced since");
  const auto& es = s.layout().entries();
  for (size_t i = 0; i < es.size(); ++i)
    if (!es[i].grows) s.at(i).copy_from(snap.fixed[i]);
  s.set_length(snap.length);
}

void Runner::save_state(const std::string& path) const {
  save_sequence_state(path, ctx_.state(main_), model().state_owner());
}

void Runner::load_state(const std::string& path) {
  ctx_.state(main_) = load_sequence_state(path, model().state_layout(), model().state_owner());
  ++epoch_;
}

void Runner::start_batch(int64_t batch) {
  GANDER_CHECK(batch >= 1, "start_batch: batch must be at least 1, got ", batch);
  for (auto id : batch_) ctx_.leave(id);
  batch_.clear();
  for (int64_t i = 0; i < batch; ++i) batch_.push_back(ctx_.join(ctx_.state(main_).clone()));
}

void Runner::feed_batch(std::span<const int32_t> tokens, Tensor& logits) {
  GANDER_CHECK(tokens.size() == batch_.size(), "feed_batch: ", tokens.size(), " tokens for ", batch_.size(),
               " sequences");
  std::vector<models::Context::Step> steps;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int64_t seen = ctx_.state(batch_[i]).length();
    GANDER_CHECK(context_limit() == 0 || seen < context_limit(), "context full: sequence ", i, " holds ", seen,
                 " tokens (max_position_embeddings)");
    steps.push_back({batch_[i], tokens.subspan(i, 1)});
  }
  ctx_.forward(steps, logits);
}

}  // namespace gander
