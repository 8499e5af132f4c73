#include "models/sequence_state.h"

#include <algorithm>

namespace gander::models {

bool StateLayout::has_growing() const {
  return std::any_of(entries_.begin(), entries_.end(), [](const StateEntry& e) { return e.grows; });
}

size_t StateLayout::add(StateEntry e) {
  entries_.push_back(std::move(e));
  return entries_.size() - 1;
}

bool StateLayout::operator==(const StateLayout& o) const {
  if (entries_.size() != o.entries_.size() || uses_positions_ != o.uses_positions_) return false;
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name != o.entries_[i].name || entries_[i].shape != o.entries_[i].shape ||
        entries_[i].grows != o.entries_[i].grows)
      return false;
  return true;
}

namespace {
Shape with_rows(int64_t rows, const Shape& row) {
  Shape s{rows};
  s.insert(s.end(), row.begin(), row.end());
  return s;
}
}  // namespace

SequenceState::SequenceState(std::shared_ptr<const StateLayout> layout) : layout_(std::move(layout)) {
  for (const StateEntry& e : layout_->entries()) tensors_.push_back(e.grows ? Tensor() : Tensor::zeros(DType::F32, e.shape));
}

Tensor& SequenceState::get(const std::string& name) {
  return const_cast<Tensor&>(static_cast<const SequenceState&>(*this).get(name));
}

const Tensor& SequenceState::get(const std::string& name) const {
  GANDER_CHECK(layout_, "state: empty");
  const auto& es = layout_->entries();
  for (size_t i = 0; i < es.size(); ++i)
    if (es[i].name == name) return tensors_[i];
  fail("state: no entry '", name, "'");
}

void SequenceState::set_length(int64_t n) {
  GANDER_CHECK(n >= 0 && (n <= capacity_ || !layout_->has_growing()), "state: length ", n, " exceeds its room for ",
               capacity_, " positions");
  length_ = n;
}

void SequenceState::reserve(int64_t positions) {
  if (positions <= capacity_ || !layout_->has_growing()) return;
  const int64_t cap = std::max(positions, 2 * capacity_);
  const auto& es = layout_->entries();
  for (size_t i = 0; i < es.size(); ++i) {
    if (!es[i].grows) continue;
    Tensor grown = Tensor::empty(DType::F32, with_rows(cap, es[i].shape));
    if (length_ > 0) grown.rows(0, length_).copy_from(tensors_[i].rows(0, length_));
    tensors_[i] = grown;
  }
  capacity_ = cap;
}

SequenceState SequenceState::clone() const {
  SequenceState s;
  s.layout_ = layout_;
  s.length_ = length_;
  s.capacity_ = capacity_;
  for (const Tensor& t : tensors_) s.tensors_.push_back(t.defined() ? t.clone() : Tensor());
  return s;
}

void SequenceState::reset() {
  const auto& es = layout_->entries();
  for (size_t i = 0; i < es.size(); ++i)
    if (!es[i].grows) tensors_[i].fill_zero();
  length_ = 0;
}

int64_t SequenceState::bytes() const {
  int64_t n = 0;
  for (const Tensor& t : tensors_) n += t.defined() ? int64_t(t.nbytes()) : 0;
  return n;
}

int64_t SequenceState::fixed_bytes() const {
  int64_t n = 0;
  const auto& es = layout_->entries();
  for (size_t i = 0; i < es.size(); ++i)
    if (!es[i].grows) n += int64_t(tensors_[i].nbytes());
  return n;
}

}  // namespace gander::models
