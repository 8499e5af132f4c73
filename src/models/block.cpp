#include "models/block.h"

#include <algorithm>

#include "ops/elementwise.h"

namespace gander::models {

void Pass::emit(const Tensor& x, const Tensor& W, const Tensor* bias) const {
  if (record) {
    ops::linear(x, W, bias, *record, precision);
    ops::add(*residual, *record, *residual);
    return;
  }
  ops::linear({.x = x, .W = W, .bias = bias, .out = *residual, .accumulate = true}, precision);
}

void token_shift(const Tensor& x, Tensor& shifted, const Pass& pass, size_t carried) {
  const int64_t C = x.dim(-1);
  for (const Segment& sg : pass.segments) {
    const float* px = x.data<float>() + sg.row0 * C;
    float* ps = shifted.data<float>() + sg.row0 * C;
    float* pc = sg.state->at(carried).data<float>();
    std::copy(pc, pc + C, ps);
    std::copy(px, px + (sg.rows - 1) * C, ps + C);
    std::copy(px + (sg.rows - 1) * C, px + sg.rows * C, pc);
  }
}

}  // namespace gander::models
