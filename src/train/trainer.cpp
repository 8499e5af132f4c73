#include "train/trainer.h"

#include <fnmatch.h>

#include <cmath>

namespace gander::train {

std::function<bool(const models::Param&)> select_params(const models::ParamTable& table,
                                                        const std::vector<std::string>& train,
                                                        const std::vector<std::string>& freeze) {
  auto matches = [](const std::string& pattern, const std::string& name) {
    return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  };
  for (const auto* list : {&train, &freeze})
    for (const std::string& pat : *list) {
      bool any = false;
      for (const models::Param& p : table.params) any = any || matches(pat, p.name);
      GANDER_CHECK(any, "parameter pattern '", pat, "' (", list == &train ? "train" : "freeze",
                   ") matches no parameter of the model (names look like '", table.params.front().name, "')");
    }
  return [=](const models::Param& p) {
    bool on = train.empty();
    for (const std::string& pat : train) on = on || matches(pat, p.name);
    for (const std::string& pat : freeze) on = on && !matches(pat, p.name);
    return on;
  };
}

void check_finite(int64_t step, double loss, const models::Gradients& grads) {
  GANDER_CHECK(std::isfinite(loss), "step ", step, ": the loss is ", loss, " (not finite); no weight was updated");
  const auto& params = grads.table().params;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& g = grads.by_index()[i];
    if (!g.defined()) continue;
    const float* p = g.data<float>();
    const int64_t n = g.numel();
    float sum = 0;  // finite exactly when every element is (a NaN or an infinity poisons it)
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) sum += p[j] * 0.0f;
    if (std::isfinite(sum)) continue;
    for (int64_t j = 0; j < n; ++j)
      GANDER_CHECK(std::isfinite(p[j]), "step ", step, ": the gradient of '", params[i].name, "' is ", p[j],
                   " at element ", j, " (not finite); no weight was updated");
  }
}

namespace {
const models::ParamTable& master(models::Decoder& m) {
  models::make_master_weights(m.params());
  return m.params();
}
}  // namespace

Trainer::Trainer(models::Decoder& model, TrainerConfig config, Grouping grouping)
    : model_(model),
      c_(std::move(config)),
      grads_(master(model), select_params(model.params(), c_.train, c_.freeze)),
      opt_(grads_, c_.adam, std::move(grouping)) {}

StepResult Trainer::step(const models::TrainBatch& batch) { return step(std::span(&batch, 1)); }

StepResult Trainer::step(std::span<const models::TrainBatch> micro_batches) {
  GANDER_CHECK(!micro_batches.empty(), "Trainer::step: no batch");
  grads_.zero();
  StepResult r;
  for (const models::TrainBatch& b : micro_batches) r.loss += model_.train_step(b, grads_, c_.loss);
  const double n = double(micro_batches.size());
  r.loss /= n;
  if (n > 1) grads_.scale(1.0 / n);
  check_finite(opt_.steps() + 1, r.loss, grads_);
  r.grad_norm = c_.grad_clip > 0 ? clip_global_norm(grads_, c_.grad_clip) : grads_.global_norm();
  opt_.step(grads_);
  return r;
}

int64_t Trainer::trained_parameters() const {
  int64_t n = 0;
  for (const Tensor& g : grads_.by_index()) n += g.defined() ? g.numel() : 0;
  return n;
}

}  // namespace gander::train
