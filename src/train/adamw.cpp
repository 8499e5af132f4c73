#include "train/adamw.h"

#include <fnmatch.h>

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

Grouping rwkv7_groups(double weight_decay, double lr_scale_w0, std::vector<std::string> mixer_globs) {
  const Grouping base = rwkv7_groups(weight_decay, lr_scale_w0);
  return [=](const models::Param& p) {
    ParamGroup g = base(p);
    for (const std::string& glob : mixer_globs) g.mixer = g.mixer || fnmatch(glob.c_str(), p.name.c_str(), 0) == 0;
    return g;
  };
}

namespace {
void check_target(const AdamWTarget& t) {
  GANDER_CHECK(t.value->dtype() == DType::F32 && t.value->writable(), "AdamW: '", t.name, "' is ",
               t.value->describe(), " and not writable f32 (make the model's master weights first: "
               "models::make_master_weights)");
}
}  // namespace

AdamW::AdamW(const models::Gradients& grads, AdamWConfig config, Grouping grouping) : c_(config) {
  const auto& params = grads.table().params;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads.by_index()[i].defined()) continue;
    targets_.push_back({params[i].name, params[i].slot, grouping ? grouping(params[i]) : ParamGroup{}, {}, {}});
    param_index_.push_back(i);
  }
  for (AdamWTarget& t : targets_) {
    check_target(t);
    t.m.assign(size_t(t.value->numel()), 0.0f);
    t.v.assign(size_t(t.value->numel()), 0.0f);
  }
}

AdamW::AdamW(std::vector<AdamWTarget> targets, AdamWConfig config) : c_(config), targets_(std::move(targets)) {
  for (AdamWTarget& t : targets_) {
    check_target(t);
    t.m.assign(size_t(t.value->numel()), 0.0f);
    t.v.assign(size_t(t.value->numel()), 0.0f);
  }
}

void AdamW::step(const models::Gradients& grads) {
  GANDER_CHECK(param_index_.size() == targets_.size(), "internal: AdamW over tensors stepped with model gradients");
  std::vector<const Tensor*> g;
  for (size_t i : param_index_) g.push_back(&grads.by_index()[i]);
  step(g);
}

void AdamW::step(const std::vector<const Tensor*>& grads) {
  GANDER_CHECK(grads.size() == targets_.size(), "internal: ", grads.size(), " gradients for ", targets_.size(),
               " AdamW targets");
  ++t_;
  const double bc1 = 1.0 - std::pow(c_.beta1, double(t_)), bc2 = 1.0 - std::pow(c_.beta2, double(t_));
  for (size_t i = 0; i < targets_.size(); ++i) {
    AdamWTarget& t = targets_[i];
    float* p = t.value->data<float>();
    const float* pg = grads[i]->data<float>();
    float *m = t.m.data(), *v = t.v.data();
    const double base = t.group.mixer && c_.mixer_lr >= 0 ? c_.mixer_lr : c_.lr;
    const double lr = base * t.group.lr_scale, decay = 1.0 - lr * t.group.weight_decay;
    const float b1 = float(c_.beta1), b2 = float(c_.beta2);
    const int64_t n = t.value->numel();
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
