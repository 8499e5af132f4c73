#include "generate/chat_history.h"

namespace gander {

void ChatHistory::set_system(std::vector<int32_t> ids) { system_ = std::move(ids); }

void ChatHistory::start_turn() { turns_.emplace_back(); }

void ChatHistory::append(std::span<const int32_t> ids) {
  if (turns_.empty()) turns_.emplace_back();
  turns_.back().insert(turns_.back().end(), ids.begin(), ids.end());
}

void ChatHistory::drop_last_turn() {
  if (!turns_.empty()) turns_.pop_back();
}

void ChatHistory::clear() {
  turns_.clear();
  known_ = true;
}

void ChatHistory::forget() {
  turns_.clear();
  system_.clear();
  known_ = false;
}

int64_t ChatHistory::tokens() const {
  int64_t n = int64_t(system_.size());
  for (const auto& t : turns_) n += int64_t(t.size());
  return n;
}

std::optional<ChatHistory::Fit> ChatHistory::fit(int64_t need, int64_t limit) {
  if (tokens() + need <= limit) return Fit{};
  if (!known_ || int64_t(system_.size()) + need > limit) return std::nullopt;
  Fit f;
  f.rebuild = true;
  int64_t held = tokens();
  while (!turns_.empty() && held + need > limit) {
    held -= int64_t(turns_.front().size());
    turns_.erase(turns_.begin());
    ++f.dropped_turns;
  }
  f.replay = system_;
  for (const auto& t : turns_) f.replay.insert(f.replay.end(), t.begin(), t.end());
  return f;
}

}  // namespace gander
