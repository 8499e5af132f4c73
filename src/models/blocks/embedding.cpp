#include "models/blocks/embedding.h"

#include "ops/embedding.h"

namespace gander::models {

void Embedding::declare(ParamDecl& d) {
  d.add(&table, {vocab, width}, Kind::Table, Init::normal(init_std),
        {{{"emb.weight"}, {"model.embeddings.weight"}, {"model.embed_tokens.weight"}}});
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

void Head::declare(ParamDecl& d) {
  if (tied) return;
  d.add(&weight, {vocab, width}, Kind::Matrix, Init::normal(init_std),
        {{{"head.weight"}, {"lm_head.weight"}, {"lm_head.weight"}}});
}

}  // namespace gander::models
