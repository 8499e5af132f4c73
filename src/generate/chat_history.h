// The tokens of a conversation, turn by turn, for models with a bounded context (Qwen2's
// max_position_embeddings): when the next message would not fit, the oldest turns are dropped
// (the system prompt stays) and the rest is fed again from an empty cache. A recurrent model
// (RWKV-7) never needs it.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace gander {

class ChatHistory {
 public:
  void set_system(std::vector<int32_t> ids);
  void start_turn();                              // a new user turn begins
  void append(std::span<const int32_t> ids);      // tokens fed to the model in the current turn
  void drop_last_turn();                          // /retry or an interrupted message: forget it
  void clear();                                   // /reset: keeps the system prompt
  void forget();                                  // a state loaded from a file: the tokens are unknown
  bool known() const { return known_; }
  int64_t tokens() const;                         // everything held (system included)
  int64_t turns() const { return int64_t(turns_.size()); }

  // Makes room for `need` more tokens within `limit`: nothing to do (empty vector and false),
  // or the oldest turns are dropped and the tokens to feed again from scratch are returned, or
  // nullopt when even the system prompt alone leaves no room (or the history is not known).
  struct Fit {
    bool rebuild = false;
    int64_t dropped_turns = 0;
    std::vector<int32_t> replay;  // system + the kept turns, when rebuild
  };
  std::optional<Fit> fit(int64_t need, int64_t limit);

 private:
  std::vector<int32_t> system_;
  std::vector<std::vector<int32_t>> turns_;
  bool known_ = true;
};

}  // namespace gander
