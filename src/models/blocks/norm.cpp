#include "models/blocks/norm.h"

#include "ops/backward.h"
#include "ops/norm.h"

namespace gander::models {

void Norm::declare(ParamDecl& d, const Aliases& weight_names, const Aliases& bias_names) {
  if (kind == Kind::Rms) {
    d.add(&weight, {width}, models::Kind::Vector, Init::constant(1), weight_names);
    return;
  }
  d.add(&weight, {width}, models::Kind::Vector, Init::uniform(0.9f, 1.1f), weight_names).fresh = Init::constant(1);
  d.add(&bias, {width}, models::Kind::Vector, Init::uniform(-0.1f, 0.1f), bias_names).fresh = Init::constant(0);
}

void Norm::apply(const Tensor& x, Tensor& out) const {
  if (kind == Kind::Layer) ops::layer_norm(x, weight, bias, eps, out);
  else ops::rms_norm(x, weight, eps, out);
}

void Norm::backward(const Tensor& x, const Tensor& dy, Tensor& dx, Gradients& g) const {
  if (kind == Kind::Layer) ops::group_norm_backward(x, 1, weight, eps, dy, dx, g.of(weight), g.of(bias));
  else ops::rms_norm_backward(x, weight, eps, dy, dx, g.of(weight));
}

}  // namespace gander::models
