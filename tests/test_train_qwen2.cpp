// Qwen2 training: the loss against a double-precision reference written from the transformers
// equations (tests/qwen2_reference.h), and sampled entries of every parameter's gradient against
// central differences of that reference in double precision; the gradient of every parameter
// tensor against differences of the model's own loss along that gradient (the directional
// derivative |g|^2 over the whole tensor, which stands above the f32 rounding of the loss), for
// Qwen2 and the RAD-RWKV7 students; untied and tied heads; a batch against each sequence alone.
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"
#include "models/decoder.h"
#include "models/mixers/time_mix6.h"
#include "models/mixers/time_mix7.h"
#include "models/qwen2/model.h"
#include "qwen2_reference.h"

namespace gander {
namespace {

std::unique_ptr<models::Decoder> trainable(const std::string& shape, uint64_t seed) {
  std::unique_ptr<models::Decoder> d = qwen2::build(qwen2::Config::parse_shape(shape));
  models::init_params(d->params(), DType::F32, seed);
  models::make_master_weights(d->params());
  return d;
}

struct Batch {
  std::vector<int32_t> ids, targets;
};
Batch random_batch(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  Batch b;
  for (int64_t i = 0; i < n; ++i) {
    b.ids.push_back(int32_t(rng.next_u64() % uint64_t(vocab)));
    b.targets.push_back(int32_t(rng.next_u64() % uint64_t(vocab)));
  }
  return b;
}

// The differences step 1e-2 along the unit gradient direction, or less where that would change the
// loss by more than `max_change`: the RAD students' loss, a product of normalisations, has narrow
// bends (a removal key passing near zero length) about 1e-3 away along their embedding's gradient.
void expect_directional_derivatives(models::Decoder& m, const models::TrainBatch& b, double max_change = INFINITY) {
  models::Gradients g(m.params());
  m.train_step(b, g);
  const auto& params = m.params().params;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& grad = g.by_index()[i];
    const float* pg = grad.data<float>();
    double norm2 = 0;
    for (int64_t j = 0; j < grad.numel(); ++j) norm2 += double(pg[j]) * pg[j];
    // (The keys' bias barely moves softmax attention, as every score of a row shifts together:
    // its |g|^2 of ~1e-20 is below what f32 differences of the loss can resolve.)
    if (norm2 < 1e-12) continue;
    const double h = std::min(1e-2, max_change / std::sqrt(norm2)) / std::sqrt(norm2);
    Tensor saved = params[i].slot->clone();
    auto loss_at = [&](double s) {
      float* pw = params[i].slot->data<float>();
      const float* p0 = saved.data<float>();
      for (int64_t j = 0; j < grad.numel(); ++j) pw[j] = float(p0[j] + s * pg[j]);
      models::Gradients scratch(m.params(), [](const models::Param&) { return false; });
      return m.train_step(b, scratch);
    };
    const double fd = (loss_at(h) - loss_at(-h)) / (2 * h);
    params[i].slot->copy_from(saved);
    EXPECT_NEAR(fd / norm2, 1.0, 2e-2) << params[i].name << ": |g|^2 " << norm2 << ", differences " << fd;
  }
}

// Sampled entries (the first, the last and 6 at random) of every parameter tensor: gander's f32
// gradient against double differences of the reference, within 1e-5 of the tensor's largest
// gradient (or of 1e-3 of the model's largest, for a tensor whose gradient is all but zero: the
// keys' bias, which only moves scores through RoPE's rotation of it).
void expect_reference_gradients(const std::string& shape, uint64_t seed) {
  const qwen2::Config c = qwen2::Config::parse_shape(shape);
  auto m = trainable(shape, seed);
  const int64_t B = 2, T = 13;
  Batch b = random_batch(B * T, c.vocab, seed + 1);
  b.targets[3] = -1;  // a position without a target
  models::Gradients g(m->params());
  const double loss = m->train_step({b.ids, b.targets, B, T}, g);
  test::NamedWeights w;
  for (const models::Param& p : m->params().params) {
    const auto v = p.slot->to_f32_vector();
    w[p.name] = {v.begin(), v.end()};
  }
  const double want = test::qwen2_reference_loss(c, w, b.ids, b.targets, B, T);
  EXPECT_NEAR(loss, want, 1e-5 * want);
  double model_max = 0;
  for (const Tensor& t : g.by_index())
    for (float v : t.to_f32_vector()) model_max = std::max(model_max, double(std::fabs(v)));
  Rng rng(seed + 2);
  const auto& params = m->params().params;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto grad = g.by_index()[i].to_f32_vector();
    double scale = 1e-3 * model_max;
    for (float v : grad) scale = std::max(scale, double(std::fabs(v)));
    std::vector<double>& x = w[params[i].name];
    double worst = 0;
    size_t worst_at = 0;
    for (int s = 0; s < 8; ++s) {
      const size_t e = s == 0 ? 0 : s == 1 ? x.size() - 1 : size_t(rng.next_u64() % x.size());
      const double x0 = x[e], h = 1e-5 * std::max(1.0, std::fabs(x0));
      x[e] = x0 + h;
      const double up = test::qwen2_reference_loss(c, w, b.ids, b.targets, B, T);
      x[e] = x0 - h;
      const double down = test::qwen2_reference_loss(c, w, b.ids, b.targets, B, T);
      x[e] = x0;
      const double err = std::fabs((up - down) / (2 * h) - grad[e]) / scale;
      if (err > worst) worst = err, worst_at = e;
    }
    EXPECT_LE(worst, 1e-5) << params[i].name << " element " << worst_at << " (gradient " << grad[worst_at]
                           << ", tensor max " << scale << ")";
  }
}

TEST(Qwen2Train, EveryParameterMatchesDoubleDifferencesOfTheReference) {
  expect_reference_gradients("L2,D64,H4,KV2,I96,V300", 31);
  expect_reference_gradients("L1,D32,H2,KV1,I48,V200,T", 32);  // tied head: embedding and head at once
}

TEST(Qwen2Train, EveryGradientIsTheDerivativeOfTheLoss) {
  auto m = trainable("L2,D64,H4,KV2,I96,V300", 11);
  const Batch b = random_batch(2 * 13, 300, 5);
  expect_directional_derivatives(*m, {b.ids, b.targets, 2, 13});
}

TEST(Qwen2Train, TiedHeadGetsBothGradients) {
  auto m = trainable("L1,D32,H2,KV1,I48,V200,T", 12);
  const Batch b = random_batch(9, 200, 6);
  expect_directional_derivatives(*m, {b.ids, b.targets, 1, 9});
}

std::unique_ptr<models::Decoder> rad_student(models::TimeMix7Config::Form form, int64_t kv_heads, int64_t layers,
                                             uint64_t seed) {
  qwen2::Config c = qwen2::Config::parse_shape("L2,D64,H2,KV1,I96,V300");
  c.n_kv_head = kv_heads, c.n_layer = layers;
  std::unique_ptr<models::Decoder> d = qwen2::build(c, [c, form](int64_t layer) -> std::unique_ptr<models::Block> {
    models::TimeMix7Config m;
    m.form = form, m.layer = layer, m.width = c.hidden, m.heads = c.n_head, m.head_size = c.head_dim;
    m.kv_heads = c.n_kv_head, m.rank_w = 16, m.rank_a = 16, m.rank_v = 8, m.rank_g = 16, m.rope_theta = 1e4;
    return std::make_unique<models::TimeMix7>(m);
  });
  models::init_params(d->params(), DType::F32, seed);
  models::make_master_weights(d->params());
  return d;
}

TEST(RadStudentTrain, EveryGradientIsTheDerivativeOfTheLoss) {
  using Form = models::TimeMix7Config::Form;
  for (auto [form, kv] : {std::pair{Form::RadBalanced, 1}, {Form::RadDefault, 1}, {Form::RadBalanced, 2}, {Form::RadDefault, 2}}) {
    SCOPED_TRACE(std::string(form == Form::RadBalanced ? "balanced" : "default") + ", KV heads " + std::to_string(kv));
    auto m = rad_student(form, kv, 2, 21);
    const Batch b = random_batch(2 * 13, 300, 8);
    expect_directional_derivatives(*m, {b.ids, b.targets, 2, 13}, 1e-4);
  }
}

// RAD-RWKV6 (its goldens have one KV head and no RoPE): grouped heads and RoPE too.
TEST(RadStudentTrain, Rwkv6GradientsAreTheDerivativeOfTheLoss) {
  for (auto [kv, theta] : {std::pair{1, 0.0}, {2, 0.0}, {1, 1e4}}) {
    SCOPED_TRACE(concat("RAD-RWKV6, KV heads ", kv, ", RoPE ", theta));
    qwen2::Config c = qwen2::Config::parse_shape("L2,D64,H2,KV1,I96,V300");
    c.n_kv_head = kv;
    std::unique_ptr<models::Decoder> m = qwen2::build(c, [c, theta](int64_t layer) -> std::unique_ptr<models::Block> {
      models::TimeMix6Config t;
      t.layer = layer, t.layers = c.n_layer, t.width = c.hidden, t.heads = c.n_head, t.head_size = c.head_dim;
      t.kv_heads = c.n_kv_head, t.rank_shift = 8, t.rank_decay = 16, t.rope_theta = theta;
      return std::make_unique<models::TimeMix6>(t);
    });
    models::init_params(m->params(), DType::F32, 23);
    models::make_master_weights(m->params());
    const Batch b = random_batch(2 * 13, 300, 9);
    expect_directional_derivatives(*m, {b.ids, b.targets, 2, 13}, 1e-4);
  }
}

TEST(Qwen2Train, ABatchGivesTheGradientsOfEachSequenceAlone) {
  auto m = trainable("L2,D64,H4,KV2,I96,V300", 13);
  const Batch b = random_batch(3 * 11, 300, 7);
  models::Gradients both(m->params()), alone(m->params());
  const double loss = m->train_step({b.ids, b.targets, 3, 11}, both);
  double sum = 0;
  for (size_t s = 0; s < 3; ++s)
    sum += m->train_step({std::span(b.ids).subspan(s * 11, 11), std::span(b.targets).subspan(s * 11, 11), 1, 11},
                         alone);
  alone.scale(1.0 / 3);
  EXPECT_NEAR(loss, sum / 3, 1e-5);
  for (size_t i = 0; i < both.by_index().size(); ++i) {
    const auto x = both.by_index()[i].to_f32_vector(), y = alone.by_index()[i].to_f32_vector();
    double d = 0, mx = 1e-12;
    for (size_t j = 0; j < x.size(); ++j) d = std::max(d, std::fabs(double(x[j]) - y[j])), mx = std::max(mx, std::fabs(double(x[j])));
    EXPECT_LE(d / mx, 1e-4) << m->params().params[i].name;
  }
}

}  // namespace
}  // namespace gander
