#include "train/trainer.h"

#include <fnmatch.h>

#include <algorithm>
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
std::function<bool(const models::Param&)> trainable(const models::Decoder& m, const TrainerConfig& c) {
  if (!c.state_tuning) return select_params(m.params(), c.train, c.freeze);
  GANDER_CHECK(c.train.empty() && c.freeze.empty(), "state tuning trains the initial state alone; drop the train and "
                                                    "freeze patterns");
  return [](const models::Param&) { return false; };
}
std::vector<size_t> tunable_entries(const models::Decoder& m, bool state_tuning) {
  std::vector<size_t> out;
  if (!state_tuning) return out;
  const auto& entries = m.state_layout()->entries();
  for (size_t e = 0; e < entries.size(); ++e)
    if (entries[e].tunable) out.push_back(e);
  GANDER_CHECK(!out.empty(), "state tuning: ", m.info().architecture, " models have no initial state to tune");
  return out;
}
}  // namespace

Trainer::Trainer(models::Decoder& model, TrainerConfig config, Grouping grouping)
    : model_(model),
      c_(std::move(config)),
      grads_(master(model), trainable(model, c_)),
      initial_(c_.state_tuning ? model.new_state() : models::SequenceState()),
      d_initial_(c_.state_tuning ? model.new_state() : models::SequenceState()),
      tuned_entries_(tunable_entries(model, c_.state_tuning)),
      opt_(c_.state_tuning ? AdamW(
                                 [&] {
                                   std::vector<AdamWTarget> t;
                                   for (size_t e : tuned_entries_)
                                     t.push_back({initial_.layout().entries()[e].name, &initial_.at(e), {}, {}, {}});
                                   return t;
                                 }(),
                                 c_.adam)
                           : AdamW(grads_, c_.adam, std::move(grouping))) {}

StepResult Trainer::step(const models::TrainBatch& batch) { return step(std::span(&batch, 1)); }

StepResult Trainer::step(std::span<const models::TrainBatch> micro_batches) {
  GANDER_CHECK(!micro_batches.empty(), "Trainer::step: no batch");
  StepResult r;
  const double n = double(micro_batches.size());
  if (c_.state_tuning) return step_state(micro_batches);
  grads_.zero();
  for (const models::TrainBatch& b : micro_batches)
    r.loss += c_.objective ? c_.objective(model_, b, grads_) : model_.train_step(b, grads_, c_.loss);
  r.loss /= n;
  if (n > 1) grads_.scale(1.0 / n);
  if (c_.comm && c_.comm->size() > 1) {
    std::vector<Tensor*> g;
    for (Tensor& t : grads_.by_index())
      if (t.defined()) g.push_back(&t);
    average_over_processes(g, r.loss);
  }
  check_finite(opt_.steps() + 1, r.loss, grads_);
  r.grad_norm = c_.grad_clip > 0 ? clip_global_norm(grads_, c_.grad_clip) : grads_.global_norm();
  opt_.step(grads_);
  return r;
}

// State tuning: the gradient of the initial state's tunable entries (summed over the sequences by
// train_step, then meaned over the micro-batches), checked, clipped by its own norm, one update.
StepResult Trainer::step_state(std::span<const models::TrainBatch> micro_batches) {
  StepResult r;
  d_initial_.reset();
  for (models::TrainBatch b : micro_batches) {
    b.initial = &initial_;
    r.loss += model_.train_step(b, grads_, c_.loss, &d_initial_);
  }
  const double n = double(micro_batches.size());
  r.loss /= n;
  if (c_.comm && c_.comm->size() > 1) {
    std::vector<Tensor*> g;
    for (size_t e : tuned_entries_) g.push_back(&d_initial_.at(e));
    average_over_processes(g, r.loss);
  }
  const int64_t step = opt_.steps() + 1;
  GANDER_CHECK(std::isfinite(r.loss), "step ", step, ": the loss is ", r.loss, " (not finite); no state was updated");
  double norm2 = 0;
  std::vector<const Tensor*> grads;
  for (size_t e : tuned_entries_) {
    Tensor& g = d_initial_.at(e);
    float* p = g.data<float>();
    for (int64_t i = 0; i < g.numel(); ++i) {
      p[i] = float(p[i] / n);
      GANDER_CHECK(std::isfinite(p[i]), "step ", step, ": the gradient of the initial state '",
                   initial_.layout().entries()[e].name, "' is ", p[i], " at element ", i,
                   " (not finite); no state was updated");
      norm2 += double(p[i]) * p[i];
    }
    grads.push_back(&g);
  }
  r.grad_norm = std::sqrt(norm2);
  if (c_.grad_clip > 0 && r.grad_norm > c_.grad_clip) {
    const float f = float(c_.grad_clip / (r.grad_norm + 1e-6));
    for (size_t e : tuned_entries_) {
      float* p = d_initial_.at(e).data<float>();
      for (int64_t i = 0; i < d_initial_.at(e).numel(); ++i) p[i] *= f;
    }
  }
  opt_.step(grads);
  return r;
}

// Buckets of about 16 MB: one allreduce per bucket instead of one per tensor (hundreds of small
// norms and mixes), without a copy of all the gradients at once.
void Trainer::average_over_processes(std::vector<Tensor*> grads, double& loss) {
  const int64_t bucket = int64_t(4) << 20;  // floats
  std::vector<float> buf;
  const float inv = 1.0f / float(c_.comm->size());
  size_t i = 0;
  while (i < grads.size()) {
    size_t j = i;
    int64_t n = 0;
    while (j < grads.size() && (j == i || n + grads[j]->numel() <= bucket)) n += grads[j++]->numel();
    float* data;
    if (j == i + 1) {
      data = grads[i]->data<float>();
    } else {
      buf.resize(size_t(n));
      int64_t o = 0;
      for (size_t k = i; k < j; ++k) {
        std::copy_n(grads[k]->data<float>(), grads[k]->numel(), buf.data() + o);
        o += grads[k]->numel();
      }
      data = buf.data();
    }
    c_.comm->allreduce_sum(data, n);
    for (int64_t e = 0; e < n; ++e) data[e] *= inv;
    if (j != i + 1) {
      int64_t o = 0;
      for (size_t k = i; k < j; ++k) {
        std::copy_n(buf.data() + o, grads[k]->numel(), grads[k]->data<float>());
        o += grads[k]->numel();
      }
    }
    i = j;
  }
  c_.comm->allreduce_sum(&loss, 1);
  loss /= double(c_.comm->size());
}

int64_t Trainer::trained_parameters() const {
  int64_t n = 0;
  for (size_t e : tuned_entries_) n += initial_.at(e).numel();
  for (const Tensor& g : grads_.by_index()) n += g.defined() ? g.numel() : 0;
  return n;
}

}  // namespace gander::train
