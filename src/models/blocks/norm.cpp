#include "models/blocks/norm.h"

#include "ops/norm.h"

namespace gander::models {

void Norm::declare(ParamDecl& d, const Aliases& weight_names, const Aliases& bias_names) {
  if (kind == Kind::Rms) {
    d.add(&weight, {width}, models::Kind::Vector, Init::constant(1), weight_names);
    return;
  }
  d.add(&weight, {width}, models::Kind::Vector, Init::uniform(0.9f, 1.1f), weight_names);
  d.add(&bias, {width}, models::Kind::Vector, Init::uniform(-0.1f, 0.1f), bias_names);
}

void Norm::apply(const Tensor& x, Tensor& out) const {
  if (kind == Kind::Layer) ops::layer_norm(x, weight, bias, eps, out);
  else ops::rms_norm(x, weight, eps, out);
}

}  // namespace gander::models
