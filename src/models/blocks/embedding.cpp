#include "models/blocks/embedding.h"

#include "ops/embedding.h"

namespace gander::models {

void Embedding::declare(ParamDecl& d) {
  d.add(&table, {vocab, width}, Kind::Table, Init::normal(init_std),
        {{{"emb.weight"}, {"model.embeddings.weight"}, {"model.embed_tokens.weight"}}})
      .fresh = fresh;
  if (norm)
    norm->declare(d, {{{"blocks.0.ln0.weight"}, {"model.layers.0.pre_norm.weight"}, {}}},
                  {{{"blocks.0.ln0.bias"}, {"model.layers.0.pre_norm.bias"}, {}}});
}

void Embedding::forward(std::span<const int32_t> ids, Tensor& out) const {
  ops::embedding(table, ids, out);
  // Applying ln0 to the looked-up rows gives what folding it into the table would, in f32,
  // without an f32 copy of the table.
  if (norm) norm->apply(out, out);
}

void Embedding::train_forward(std::span<const int32_t> ids, Tensor& rows, Tensor& out) const {
  ops::embedding(table, ids, rows);
  if (norm) norm->apply(rows, out);
  else out.copy_from(rows);
}

void Embedding::backward(std::span<const int32_t> ids, const Tensor& rows, const Tensor& d_out, Gradients& g) const {
  Tensor* gt = g.of(table);
  if (!norm && !gt) return;
  Tensor d_rows = d_out;
  if (norm) {
    d_rows = Tensor::zeros(DType::F32, d_out.shape());
    norm->backward(rows, d_out, d_rows, g);
  }
  if (!gt) return;
  const float* pd = d_rows.data<float>();
  float* pt = gt->data<float>();
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t c = 0; c < width; ++c) pt[int64_t(ids[i]) * width + c] += pd[int64_t(i) * width + c];
}

void Head::declare(ParamDecl& d) {
  if (tied) return;
  d.add(&weight, {vocab, width}, Kind::Matrix, Init::normal(init_std),
        {{{"head.weight"}, {"lm_head.weight"}, {"lm_head.weight"}}})
      .fresh = fresh;
}

}  // namespace gander::models
