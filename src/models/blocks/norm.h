// A normalisation over the model width: LayerNorm with weight and bias (RWKV-7) or RMSNorm with a
// weight (Qwen2). Decoders put one before each block and one before the head.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "models/param_table.h"
#include "models/training.h"

namespace gander::models {

struct Norm {
  enum class Kind { Layer, Rms };
  Kind kind = Kind::Rms;
  int64_t width = 0;
  float eps = 1e-6f;
  Tensor weight, bias;  // [width] f32 (bias: LayerNorm only)

  static Norm layer(int64_t width, float eps) { return {Kind::Layer, width, eps, {}, {}}; }
  static Norm rms(int64_t width, float eps) { return {Kind::Rms, width, eps, {}, {}}; }
  // weight and bias named as given (bias only for a LayerNorm).
  void declare(ParamDecl& d, const Aliases& weight_names, const Aliases& bias_names);
  void apply(const Tensor& x, Tensor& out) const;  // out may alias x
  // Training: dx += the gradient at x from dy at the output; weight and bias gradients into g.
  void backward(const Tensor& x, const Tensor& dy, Tensor& dx, Gradients& g) const;
};

}  // namespace gander::models
