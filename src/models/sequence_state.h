// What one sequence carries from one forward call to the next: per layer, whatever its blocks
// declare (RWKV-7: the token-shift vectors and the WKV matrices; attention: its KV cache), and the
// number of tokens seen. Blocks declare their entries once (a StateLayout, shared by every
// sequence of a model); clone, reset, save, load, snapshots and batching walk the layout.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace gander::models {

struct StateEntry {
  std::string name;  // as state files name it: "blocks.3.wkv", "layers.3.k"
  Shape shape;       // fixed: the whole tensor; growing: one position's part
  bool grows;        // one row per position seen (a KV cache), else a constant size
  bool tunable = false;  // state tuning trains its initial value (RWKV-7's WKV matrices)
};

class StateLayout {
 public:
  const std::vector<StateEntry>& entries() const { return entries_; }
  bool has_growing() const;
  // Whether a block reads token positions (RoPE, a KV cache): then the length is part of the
  // state and state files record it.
  bool uses_positions() const { return uses_positions_; }
  size_t add(StateEntry e);
  void set_uses_positions() { uses_positions_ = true; }
  bool operator==(const StateLayout& o) const;

 private:
  std::vector<StateEntry> entries_;
  bool uses_positions_ = false;
};

// Declares one layer's state entries under the names its architecture's state files use.
class StateDecl {
 public:
  StateDecl(StateLayout& layout, std::string prefix) : layout_(layout), prefix_(std::move(prefix)) {}
  size_t fixed(const std::string& name, Shape shape, bool tunable = false) {
    return layout_.add({prefix_ + name, std::move(shape), false, tunable});
  }
  size_t growing(const std::string& name, Shape row) {
    layout_.set_uses_positions();
    return layout_.add({prefix_ + name, std::move(row), true});
  }
  void uses_positions() { layout_.set_uses_positions(); }

 private:
  StateLayout& layout_;
  std::string prefix_;
};

class SequenceState {
 public:
  SequenceState() = default;
  explicit SequenceState(std::shared_ptr<const StateLayout> layout);  // zeros, nothing seen
  bool defined() const { return layout_ != nullptr; }
  const StateLayout& layout() const { return *layout_; }
  const std::shared_ptr<const StateLayout>& shared_layout() const { return layout_; }
  Tensor& at(size_t entry) { return tensors_[entry]; }
  const Tensor& at(size_t entry) const { return tensors_[entry]; }
  // By name (tools and tests); throws for a name the layout does not have.
  Tensor& get(const std::string& name);
  const Tensor& get(const std::string& name) const;
  int64_t length() const { return length_; }  // tokens seen
  void set_length(int64_t n);                  // <= capacity()
  int64_t capacity() const { return capacity_; }  // positions the growing entries hold room for
  // Room for `positions` in every growing entry (grown by doubling; valid rows kept).
  void reserve(int64_t positions);
  SequenceState clone() const;
  void reset();               // back to zeros and no tokens seen
  int64_t bytes() const;      // memory held
  int64_t fixed_bytes() const;  // of the constant-size entries

 private:
  std::shared_ptr<const StateLayout> layout_;
  std::vector<Tensor> tensors_;  // by entry; growing ones [capacity, ...shape] (undefined at 0)
  int64_t length_ = 0, capacity_ = 0;
};

}  // namespace gander::models
