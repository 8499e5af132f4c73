#include "models/training.h"

#include <cmath>

namespace gander::models {

Gradients::Gradients(const ParamTable& table, const std::function<bool(const Param&)>& trainable) : table_(&table) {
  grads_.resize(table.params.size());
  for (size_t i = 0; i < table.params.size(); ++i) {
    const Param& p = table.params[i];
    if (!p.slot->defined() || (trainable && !trainable(p))) continue;
    grads_[i] = Tensor::zeros(DType::F32, p.shape);
    index_[p.slot] = i;
  }
}

Tensor* Gradients::of(const Tensor& slot) {
  auto it = index_.find(&slot);
  return it == index_.end() ? nullptr : &grads_[it->second];
}

void Gradients::zero() {
  for (Tensor& g : grads_)
    if (g.defined()) g.fill_zero();
}

double Gradients::global_norm() const {
  double ss = 0;
  for (const Tensor& g : grads_) {
    if (!g.defined()) continue;
    const float* p = g.data<float>();
    const int64_t n = g.numel();
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < n; ++i) ss += double(p[i]) * p[i];
  }
  return std::sqrt(ss);
}

void Gradients::scale(double factor) {
  for (Tensor& g : grads_) {
    if (!g.defined()) continue;
    float* p = g.data<float>();
    const int64_t n = g.numel();
    for (int64_t i = 0; i < n; ++i) p[i] = float(p[i] * factor);
  }
}

}  // namespace gander::models
