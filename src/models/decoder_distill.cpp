// The RADLADS training steps of a student decoder beside its teacher (spec radlads.md §6.2, §6.3):
// Step 1 aligns each converted mixer to the teacher's attention on the teacher-driven residual
// stream; Step 2 distils the teacher's next-token distributions into the whole student.
#include <algorithm>
#include <typeinfo>

#include "models/decoder.h"
#include "ops/elementwise.h"
#include "ops/loss.h"

namespace gander::models {

namespace {
void check_teacher(const Decoder& student, const Decoder& teacher) {
  GANDER_CHECK(teacher.width() == student.width() && teacher.n_layer() == student.n_layer() &&
                   teacher.vocab() == student.vocab(),
               "the teacher (", teacher.info().shape, ") and the student (", student.info().shape,
               ") differ in width, layers or vocabulary");
  for (const Param& p : teacher.params().params)
    GANDER_CHECK(p.slot->dtype() == DType::F32 && p.slot->layout() == Layout::RowMajor, "the teacher's '", p.name,
                 "' is ", p.slot->describe(), "; distillation needs its f32 row-major weights");
}
}  // namespace

double Decoder::align_step(const Decoder& teacher, const TrainBatch& b, Gradients& g, const TrainOptions& opt) const {
  GANDER_CHECK(&g.table() == &table_, "align_step: gradients of another model");
  check_training(b, nullptr);
  check_teacher(*this, teacher);
  const int64_t R = b.batch * b.seq, D = width();
  const size_t L = layers_.size();
  // A layer whose mixer is of the teacher's kind (a hybrid's kept attention) is not aligned.
  std::vector<size_t> aligned;
  for (size_t l = 0; l < L; ++l)
    if (typeid(*layers_[l].mixer) != typeid(*teacher.layers()[l].mixer)) aligned.push_back(l);
  GANDER_CHECK(!aligned.empty(), "align_step: the student has no converted layer");
  TrainRun run, teacher_run;
  train_begin(b, &g, opt, nullptr, run);
  Gradients frozen(teacher.params(), [](const Param&) { return false; });
  teacher.train_begin(b, &frozen, opt, nullptr, teacher_run);
  TrainPass &p = run.pass, &tp = teacher_run.pass;

  Tensor looked_up = Tensor::empty(DType::F32, {R, D}), x = Tensor::empty(DType::F32, {R, D});
  embedding_.train_forward(b.ids, looked_up, x);
  Tensor n_ffn = Tensor::empty(DType::F32, {R, D});
  std::vector<Tape> tapes(L);
  std::vector<Tensor> d_out(L);
  const double scale = 1.0 / double(aligned.size());
  double loss = 0;
  for (size_t l = 0; l < L; ++l) {
    const Layer& layer = layers_[l];
    const bool align = std::find(aligned.begin(), aligned.end(), l) != aligned.end();
    Tensor n = Tensor::empty(DType::F32, {R, D});  // its own: the mixer's tape keeps it
    layer.mixer_norm.apply(x, n);
    Tensor y_teacher = Tensor::zeros(DType::F32, {R, D});
    Tape discard;
    tp.residual = &y_teacher;
    teacher.layers()[l].mixer->train_forward(n, tp, discard);
    if (align) {
      Tensor y = Tensor::zeros(DType::F32, {R, D});
      p.residual = &y;
      layer.mixer->train_forward(n, p, tapes[l]);
      d_out[l] = Tensor::empty(DType::F32, {R, D});
      loss += scale * ops::l2_distance(y, y_teacher, d_out[l], scale);
    }
    ops::add(x, y_teacher, x);
    layer.ffn_norm.apply(x, n_ffn);
    Tape ffn_discard;
    p.residual = &x;
    layer.ffn->train_forward(n_ffn, p, ffn_discard);
  }
  // Only the mixers take gradients: the stream they read does not depend on them (the value
  // residual, which does, flows back through the pass's carried tensors from layer to layer).
  for (size_t i = aligned.size(); i-- > 0;) {
    const size_t l = aligned[i];
    Tensor d_in = Tensor::zeros(DType::F32, {R, D});
    layers_[l].mixer->backward(d_out[l], p, tapes[l], d_in);
    tapes[l] = {};
  }
  return loss;
}

double Decoder::distill_step(const Decoder& teacher, const TrainBatch& b, Gradients& g, const TrainOptions& opt) const {
  GANDER_CHECK(&g.table() == &table_, "distill_step: gradients of another model");
  check_training(b, nullptr);
  check_teacher(*this, teacher);
  TrainRun teacher_run;
  Gradients frozen(teacher.params(), [](const Param&) { return false; });
  teacher.train_begin(b, &frozen, opt, nullptr, teacher_run);
  teacher.train_forward(b, teacher_run, /*keep=*/false);
  teacher_run.pass.carry.clear();
  TrainRun run;
  train_begin(b, &g, opt, nullptr, run);
  train_forward(b, run, /*keep=*/true);
  const Tensor& head = head_matrix();
  Tensor d_normed = Tensor::empty(DType::F32, {run.pass.rows, width()});
  const double loss = ops::kl_divergence_head(
      {run.normed, head, teacher_run.normed, teacher.head_matrix(), 256, opt.precision}, d_normed, g.of(head));
  train_backward(b, run, d_normed, g);
  return loss;
}

}  // namespace gander::models
