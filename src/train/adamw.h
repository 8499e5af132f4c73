// AdamW with parameter groups, f32 master weights and moments, global-norm clipping: the update
// of torch.optim.AdamW (and DeepSpeed's FusedAdam in AdamW mode, which the official RWKV trainer
// runs): decoupled decay p -= lr * wd * p, then p -= lr * m_hat / (sqrt(v_hat) + eps).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "models/param_table.h"
#include "models/training.h"

namespace gander::train {

struct AdamWConfig {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.99, eps = 1e-8;
  double mixer_lr = -1;  // the learning rate of the mixer group (RADLADS' lr2); negative: lr
};

// A parameter's group: its learning-rate scale and weight decay, and whether it follows the
// mixers' learning rate (RADLADS' layerwise_lr: names with ".self_attn.") instead of the main one.
struct ParamGroup {
  double lr_scale = 1.0, weight_decay = 0.0;
  bool mixer = false;
};
using Grouping = std::function<ParamGroup(const models::Param&)>;

// The official RWKV-7 groups (RWKV-LM train_temp/src/model.py configure_optimizers): names with
// "att.w0" at lr_scale_w0 (the trainer's 2x) without decay; matrices of two or more non-unit
// dimensions named "*.weight" with `weight_decay`; everything else plain. Names are the official ones.
Grouping rwkv7_groups(double weight_decay, double lr_scale_w0 = 2.0);
// The same, and the parameters matching any of `mixer_globs` in the mixer group.
Grouping rwkv7_groups(double weight_decay, double lr_scale_w0, std::vector<std::string> mixer_globs);

// One tensor the optimizer moves: f32, writable, with its moments.
struct AdamWTarget {
  std::string name;  // checkpoints store the moments under it
  Tensor* value;
  ParamGroup group;
  std::vector<float> m, v;
};

class AdamW {
 public:
  // Moments for every parameter that `grads` holds a gradient of (the frozen ones never move).
  AdamW(const models::Gradients& grads, AdamWConfig config, Grouping grouping);
  // Moments for each of these tensors (state tuning: an initial state's matrices).
  AdamW(std::vector<AdamWTarget> targets, AdamWConfig config);
  // One update of every trained parameter from its gradient (at the current learning rate).
  void step(const models::Gradients& grads);
  // The same for the tensors given at construction, gradients in their order.
  void step(const std::vector<const Tensor*>& grads);
  int64_t steps() const { return t_; }
  void set_steps(int64_t t) { t_ = t; }  // resuming from a checkpoint
  AdamWConfig& config() { return c_; }
  std::vector<AdamWTarget>& targets() { return targets_; }
  const std::vector<AdamWTarget>& targets() const { return targets_; }

 private:
  AdamWConfig c_;
  std::vector<AdamWTarget> targets_;
  std::vector<size_t> param_index_;  // table index of each target (the Gradients form)
  int64_t t_ = 0;
};

// Scales every gradient by max_norm / (norm + 1e-6) when their global L2 norm exceeds max_norm
// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
double clip_global_norm(models::Gradients& grads, double max_norm);

}  // namespace gander::train
