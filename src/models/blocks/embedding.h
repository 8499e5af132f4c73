// The two ends of a decoder: the token embedding (RWKV-7 normalises the looked-up rows with its
// ln0) and the output head, whose matrix is its own or the embedding table itself (tied).
#pragma once
#include <optional>
#include <span>

#include "core/tensor.h"
#include "models/blocks/norm.h"
#include "models/param_table.h"
#include "models/training.h"

namespace gander::models {

struct Embedding {
  int64_t vocab = 0, width = 0;
  float init_std = 0.02f;    // of random models
  Tensor table;              // [vocab, width], the file's dtype (tiled when tied to the head)
  std::optional<Norm> norm;  // applied to the looked-up rows (RWKV-7's ln0)
  Init fresh = Init::normal(0.02f);  // a training run from scratch (transformers' initializer_range)
  void declare(ParamDecl& d);
  void forward(std::span<const int32_t> ids, Tensor& out) const;  // out: [T, width]
  // Training: the looked-up rows (kept for the norm's backward) and the output; the backward
  // adds each row's gradient into the table's gradient at its id.
  void train_forward(std::span<const int32_t> ids, Tensor& rows, Tensor& out) const;
  void backward(std::span<const int32_t> ids, const Tensor& rows, const Tensor& d_out, Gradients& g) const;
};

struct Head {
  int64_t vocab = 0, width = 0;
  bool tied = false;  // the embedding table is the head (not a parameter of its own)
  float init_std = 0.02f;
  Tensor weight;      // [vocab, width]
  Init fresh = Init::normal(0.02f);
  void declare(ParamDecl& d);
};

}  // namespace gander::models
