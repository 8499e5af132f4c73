#include "models/context.h"

#include "core/error.h"

namespace gander::models {

Context::Context(std::shared_ptr<const Decoder> model, RunOptions options) : model_(std::move(model)), opt_(options) {
  GANDER_CHECK(model_ && model_->runnable(), "internal: a context needs a finished model (or one in training)");
}

Context::SeqId Context::join() { return join(model_->new_state()); }

Context::SeqId Context::join(SequenceState state) {
  GANDER_CHECK(state.defined() && (state.shared_layout() == model_->state_layout() ||
                                    state.layout() == *model_->state_layout()),
               "context: the state does not belong to the model ", model_->info().shape);
  seqs_.emplace(next_, std::move(state));
  return next_++;
}

SequenceState Context::leave(SeqId seq) {
  SequenceState s = std::move(state(seq));
  seqs_.erase(seq);
  return s;
}

SequenceState& Context::state(SeqId seq) {
  const auto it = seqs_.find(seq);
  GANDER_CHECK(it != seqs_.end(), "context: no sequence ", seq);
  return it->second;
}

const SequenceState& Context::state(SeqId seq) const { return const_cast<Context&>(*this).state(seq); }

std::vector<Context::SeqId> Context::sequences() const {
  std::vector<SeqId> ids;
  for (const auto& [id, s] : seqs_) ids.push_back(id);
  return ids;
}

void Context::forward(std::span<const Step> steps, Tensor& logits, bool all_logits) {
  std::vector<SequenceInput> in;
  in.reserve(steps.size());
  const int64_t limit = model_->info().max_positions;  // 0: none (a recurrent state)
  for (const Step& s : steps) {
    SequenceState& st = state(s.seq);
    GANDER_CHECK(limit <= 0 || st.length() + int64_t(s.ids.size()) <= limit, "context full: ",
                 st.length() + int64_t(s.ids.size()), " tokens exceed the model's max_position_embeddings = ", limit);
    in.push_back({s.ids, &st});
  }
  model_->forward(in, ws_, opt_, logits, all_logits);
}

void Context::forward(SeqId seq, std::span<const int32_t> ids, Tensor& logits, bool all_logits) {
  const Step step{seq, ids};
  forward({&step, 1}, logits, all_logits);
}

void Context::trace(SeqId seq, std::span<const int32_t> ids, Tensor& logits, Trace& trace) {
  model_->trace(ids, state(seq), ws_, opt_, logits, trace);
}

}  // namespace gander::models
