// AdamW with parameter groups, f32 master weights and moments, global-norm clipping: the update
// of torch.optim.AdamW (and DeepSpeed's FusedAdam in AdamW mode, which the official RWKV trainer
// runs): decoupled decay p -= lr * wd * p, then p -= lr * m_hat / (sqrt(v_hat) + eps).
#pragma once
#include <functional>
#include <vector>

#include "models/param_table.h"
#include "models/training.h"

namespace gander::train {

struct AdamWConfig {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.99, eps = 1e-8;
};

// A parameter's group: its learning-rate scale and weight decay.
struct ParamGroup {
  double lr_scale = 1.0, weight_decay = 0.0;
};
using Grouping = std::function<ParamGroup(const models::Param&)>;

// The official RWKV-7 groups (RWKV-LM train_temp/src/model.py configure_optimizers): names with
// "att.w0" at lr_scale_w0 (the trainer's 2x) without decay; matrices of two or more non-unit
// dimensions named "*.weight" with `weight_decay`; everything else plain. Names are the official ones.
Grouping rwkv7_groups(double weight_decay, double lr_scale_w0 = 2.0);

class AdamW {
 public:
  // Moments for every parameter that `grads` holds a gradient of (the frozen ones never move).
  AdamW(const models::Gradients& grads, AdamWConfig config, Grouping grouping);
  // One update of every trained parameter from its gradient (at the current learning rate).
  void step(const models::Gradients& grads);
  int64_t steps() const { return t_; }
  AdamWConfig& config() { return c_; }
  const ParamGroup& group(size_t param) const { return groups_[param]; }

 private:
  AdamWConfig c_;
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<float>> m_, v_;  // by table index (empty for frozen parameters)
  int64_t t_ = 0;
};

// Scales every gradient by max_norm / (norm + 1e-6) when their global L2 norm exceeds max_norm
// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
double clip_global_norm(models::Gradients& grads, double max_norm);

}  // namespace gander::train
