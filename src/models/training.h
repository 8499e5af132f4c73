// What a block's training forward and backward share with the decoder: the gradients of the
// parameters (one f32 tensor per trainable entry of the parameter table, found by the parameter's
// slot, so a block asks for "the gradient of my w1" without a second list of its tensors), the
// activations it keeps for its backward (a Tape). The pass itself, TrainPass, is in block.h.
#pragma once
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "models/param_table.h"
#include "models/sequence_state.h"

namespace gander::models {

class Gradients {
 public:
  // One zeroed f32 tensor per parameter for which `trainable` holds (all when empty), shaped as held.
  explicit Gradients(const ParamTable& table, const std::function<bool(const Param&)>& trainable = {});
  const ParamTable& table() const { return *table_; }
  // The gradient of the parameter held in `slot`, or null when it is frozen.
  Tensor* of(const Tensor& slot);
  // By table index (undefined tensors for frozen parameters).
  std::vector<Tensor>& by_index() { return grads_; }
  const std::vector<Tensor>& by_index() const { return grads_; }
  void zero();
  double global_norm() const;  // L2 norm over all gradients (f64 sums)
  void scale(double factor);

 private:
  const ParamTable* table_;
  std::vector<Tensor> grads_;
  std::map<const Tensor*, size_t> index_;
};

// The activations one block keeps from its training forward, by the block's own numbering.
struct Tape {
  std::vector<Tensor> saved;
  Tensor& at(size_t i) {
    if (saved.size() <= i) saved.resize(i + 1);
    return saved[i];
  }
  const Tensor& at(size_t i) const { return saved.at(i); }
};

}  // namespace gander::models
