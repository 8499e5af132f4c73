#include "models/block.h"

#include <algorithm>

#include "ops/elementwise.h"
#include "ops/matmul.h"

namespace gander::models {

void Pass::emit(const Tensor& x, const Tensor& W, const Tensor* bias) const {
  if (record) {
    ops::linear(x, W, bias, *record, precision);
    ops::add(*residual, *record, *residual);
    return;
  }
  ops::linear({.x = x, .W = W, .bias = bias, .out = *residual, .accumulate = true}, precision);
}

void token_shift(const Tensor& x, Tensor& shifted, std::span<const Segment> segments, size_t carried) {
  const int64_t C = x.dim(-1);
  for (const Segment& sg : segments) {
    const float* px = x.data<float>() + sg.row0 * C;
    float* ps = shifted.data<float>() + sg.row0 * C;
    float* pc = sg.state->at(carried).data<float>();
    std::copy(pc, pc + C, ps);
    std::copy(px, px + (sg.rows - 1) * C, ps + C);
    std::copy(px + (sg.rows - 1) * C, px + sg.rows * C, pc);
  }
}

Tensor& TrainPass::d_carried(const std::string& name, const Shape& shape) {
  auto it = d_carry.find(name);
  if (it == d_carry.end()) it = d_carry.emplace(name, Tensor::zeros(DType::F32, shape)).first;
  return it->second;
}

void token_shift_backward(const Tensor& d_shifted, Tensor& dx, const TrainPass& p, size_t carried) {
  const int64_t C = dx.dim(-1);
  for (const Segment& sg : p.segments) {
    const float* pd = d_shifted.data<float>() + sg.row0 * C;
    float* px = dx.data<float>() + sg.row0 * C;
    for (int64_t i = 0; i < (sg.rows - 1) * C; ++i) px[i] += pd[C + i];
    if (p.d_initial) {
      float* pi = p.d_initial->at(carried).data<float>();
      for (int64_t c = 0; c < C; ++c) pi[c] += pd[c];
    }
  }
}

void Block::train_forward(const Tensor&, TrainPass&, Tape&) const { fail(describe(), ": training is not implemented yet"); }
void Block::backward(const Tensor&, TrainPass&, const Tape&, Tensor&) const {
  fail(describe(), ": training is not implemented yet");
}

namespace {
void add_bias(const Tensor& bias, Tensor& out) {
  const int64_t N = out.dim(-1), R = out.numel() / N;
  const float* pb = bias.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (R * N > (1 << 15))
  for (int64_t r = 0; r < R; ++r)
    for (int64_t n = 0; n < N; ++n) po[r * N + n] += pb[n];
}
}  // namespace

std::vector<int64_t> train_positions(const TrainPass& p, const std::string& who) {
  std::vector<int64_t> pos(static_cast<size_t>(p.rows));
  for (const Segment& sg : p.segments) {
    GANDER_CHECK(sg.state->length() == 0, who, ": training starts every sequence at position 0");
    for (int64_t t = 0; t < sg.rows; ++t) pos[size_t(sg.row0 + t)] = t;
  }
  return pos;
}

void train_linear(const Tensor& x, const Tensor& W, const Tensor* bias, Tensor& out, const TrainPass& p) {
  if (p.precision == ops::Precision::F32) return ops::linear(x, W, bias, out);
  ops::matmul(x, false, W, true, out, false, p.precision);
  if (bias) add_bias(*bias, out);
}

void train_emit(const Tensor& x, const Tensor& W, const Tensor* bias, TrainPass& p) {
  if (p.precision == ops::Precision::F32)
    return ops::linear({.x = x, .W = W, .bias = bias, .out = *p.residual, .accumulate = true});
  ops::matmul(x, false, W, true, *p.residual, true, p.precision);
  if (bias) add_bias(*bias, *p.residual);
}

void linear_backward(const Tensor& x, const Tensor& W, const Tensor* bias, const Tensor& d_out, TrainPass& p,
                     Tensor* dx) {
  if (dx) ops::matmul(d_out, false, W, false, *dx, true, p.precision);
  if (Tensor* gW = p.grads->of(W)) ops::matmul(d_out, true, x, false, *gW, true, p.precision);
  if (bias)
    if (Tensor* gb = p.grads->of(*bias)) {
      const int64_t N = d_out.dim(-1), R = d_out.numel() / N;
      const float* pd = d_out.data<float>();
      float* pb = gb->data<float>();
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t r = 0; r < R; ++r) s += pd[r * N + n];
        pb[n] = float(pb[n] + s);
      }
    }
}

}  // namespace gander::models
