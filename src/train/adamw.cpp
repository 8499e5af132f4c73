#include "train/adamw.h"

#include <cmath>

namespace gander::train {

Grouping rwkv7_groups(double weight_decay, double lr_scale_w0) {
  return [=](const models::Param& p) {
    if (p.name.find("att.w0") != std::string::npos) return ParamGroup{lr_scale_w0, 0.0};
    int non_unit = 0;
    for (int64_t d : p.shape) non_unit += d != 1;
    if (non_unit >= 2 && p.name.find(".weight") != std::string::npos) return ParamGroup{1.0, weight_decay};
    return ParamGroup{1.0, 0.0};
  };
}

AdamW::AdamW(const models::Gradients& grads, AdamWConfig config, Grouping grouping) : c_(config) {
  const auto& params = grads.table().params;
  groups_.resize(params.size());
  m_.resize(params.size());
  v_.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads.by_index()[i].defined()) continue;
    GANDER_CHECK(params[i].slot->dtype() == DType::F32 && params[i].slot->writable(), "AdamW: parameter '",
                 params[i].name, "' is ", params[i].slot->describe(),
                 " and not writable f32 (make the model's master weights first: models::make_master_weights)");
    groups_[i] = grouping ? grouping(params[i]) : ParamGroup{};
    m_[i].assign(size_t(params[i].slot->numel()), 0.0f);
    v_[i].assign(size_t(params[i].slot->numel()), 0.0f);
  }
}

void AdamW::step(const models::Gradients& grads) {
  ++t_;
  const double bc1 = 1.0 - std::pow(c_.beta1, double(t_)), bc2 = 1.0 - std::pow(c_.beta2, double(t_));
  const auto& params = grads.table().params;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& g = grads.by_index()[i];
    if (!g.defined()) continue;
    float* p = params[i].slot->data<float>();
    const float* pg = g.data<float>();
    float *m = m_[i].data(), *v = v_[i].data();
    const double lr = c_.lr * groups_[i].lr_scale, decay = 1.0 - lr * groups_[i].weight_decay;
    const float b1 = float(c_.beta1), b2 = float(c_.beta2);
    const int64_t n = g.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t j = 0; j < n; ++j) {
      m[j] = b1 * m[j] + (1.0f - b1) * pg[j];
      v[j] = b2 * v[j] + (1.0f - b2) * pg[j] * pg[j];
      const double denom = std::sqrt(double(v[j]) / bc2) + c_.eps;
      p[j] = float(double(p[j]) * decay - lr * (double(m[j]) / bc1) / denom);
    }
  }
}

double clip_global_norm(models::Gradients& grads, double max_norm) {
  const double norm = grads.global_norm();
  if (norm > max_norm) grads.scale(max_norm / (norm + 1e-6));
  return norm;
}

}  // namespace gander::train
