// The RWKV-7 WKV recurrence (generalised delta rule), per head of size N, in the argument
// convention of the official kernels. For each token t and head, with the state S [N x N]
// (row i = value channel, column j = key channel):
//   sa_i  = sum_j a_j * S_ij                         (from the old state)
//   S_ij <- S_ij * w_j + v_i * k_j + sa_i * b_j
//   y_i   = sum_j S_ij * r_j                         (from the updated state)
// where w is the decay itself (in (0, 1)), k the modified key k~, a = -kappa^ and b = kappa^ * a.
// r, w, k, v, a, b, y: [T, H*N] f32; state: [H, N, N] f32, updated in place (state in, state out).
// T = 1 is the decoding step; T > 1 runs the recurrence over a chunk whose projections were
// computed as matrix products. Backward (the official kernel's state-inversion scheme) lands
// beside this forward with training.
#pragma once
#include "core/tensor.h"

namespace gander::ops {

struct Wkv7Args {
  const Tensor& r;
  const Tensor& w;
  const Tensor& k;
  const Tensor& v;
  const Tensor& a;
  const Tensor& b;
};

void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y);
namespace ref {
void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y);
}
namespace fast {
void wkv7(const Wkv7Args& in, Tensor& state, Tensor& y);
}

// The per-token inputs of the recurrence, from the projections (the RWKV-7 time mix), in one of
// two forms of the keys:
//   Goose (RWKV-7, and the RADLADS repository default):
//     kappa = k * k_k, normalised per head (eps 1e-12);  k~ = k * (1 + (a - 1) * k_a)
//   Balanced (the RADLADS paper's RAD-RWKV7, "state balancing"):
//     kappa = k / (||k||_head + 1e-12);                    k~ = k * (1 - w + a)
// and in both  w = exp(-exp(-0.5) * sigmoid(d));  a_in = -kappa;  b_in = kappa * a.
// k and d are overwritten with k~ and w; a_in and b_in are written. All [T, H*N] f32.
enum class Wkv7Keys { Goose, Balanced };
struct Wkv7Prepare {
  Tensor& k;      // in: key, out: k~
  Tensor& d;      // in: decay pre-activation (w0 + LoRA), out: decay w
  const Tensor& a;  // in-context learning rate (after its sigmoid)
  const Tensor* k_k;  // [H*N] (Goose only)
  const Tensor* k_a;  // [H*N] (Goose only)
  Tensor& a_in;
  Tensor& b_in;
  Wkv7Keys keys = Wkv7Keys::Goose;
};
void wkv7_prepare(Wkv7Prepare& p, int64_t head_size);
namespace ref {
void wkv7_prepare(Wkv7Prepare& p, int64_t head_size);
}
namespace fast {
void wkv7_prepare(Wkv7Prepare& p, int64_t head_size);
}

// The time mix's output from the recurrence's y, per token and head of N channels:
//   out = (norm(y) + bonus * v) * g
// where norm is RWKV-7's ln_x GroupNorm (y - mean) / sqrt(var + eps) * ln_w + ln_b per head, or,
// without ln_w (RADLADS' balanced form), y * scale; bonus = sum_j r_j k_j r_k_j over the head
// (the current token's own contribution), absent without r_k (RAD-RWKV7).
// y, r, k (k~), v, g, out: [T, H*N]; ln_w, ln_b, r_k: [H*N]. out may alias y.
struct Wkv7Output {
  const Tensor& y;
  const Tensor& r;
  const Tensor& k;
  const Tensor& v;
  const Tensor& g;
  const Tensor* ln_w;  // null: no GroupNorm, y * scale
  const Tensor* ln_b;
  const Tensor* r_k;   // null: no bonus
  float eps;
  float scale = 1;
};
void wkv7_output(const Wkv7Output& o, int64_t head_size, Tensor& out);
namespace ref {
void wkv7_output(const Wkv7Output& o, int64_t head_size, Tensor& out);
}
namespace fast {
void wkv7_output(const Wkv7Output& o, int64_t head_size, Tensor& out);
}

namespace detail {
// One row of wkv7_output (C channels, N a multiple of 16), head by head with each slice in L1.
// ln_w null: y * scale instead of the GroupNorm; r_k null: no bonus.
void wkv7_output_row_avx512(const float* y, const float* r, const float* k, const float* v, const float* g,
                            const float* ln_w, const float* ln_b, const float* r_k, float eps, float scale, int64_t C,
                            int64_t N, float* out);
// One row of wkv7_prepare (C channels) with AVX-512 and libmvec; k_k null: the balanced form.
void wkv7_prepare_row_avx512(float* k, float* d, const float* a, const float* k_k, const float* k_a, float* a_in,
                             float* b_in, int64_t C, int64_t N);
// One head, head size 64, T tokens; inputs have row stride `stride` (= H*64).
using Wkv7HeadFn = void (*)(const float* r, const float* w, const float* k, const float* v, const float* a,
                            const float* b, int64_t T, int64_t stride, float* S, float* y);
void wkv7_head64_portable(const float* r, const float* w, const float* k, const float* v, const float* a,
                          const float* b, int64_t T, int64_t stride, float* S, float* y);
void wkv7_head64_avx512(const float* r, const float* w, const float* k, const float* v, const float* a,
                        const float* b, int64_t T, int64_t stride, float* S, float* y);
// Value channels [i0, i0 + V) of one head of any size N (a multiple of 16; V <= 64, a multiple
// of 16), T tokens: a head splits into such independent blocks (see wkv7_head.inc). Pointers as
// for the head64 kernels; S is the head's [N, N] state.
using Wkv7BlockFn = void (*)(const float* r, const float* w, const float* k, const float* v, const float* a,
                             const float* b, int64_t T, int64_t stride, int64_t N, int64_t i0, int64_t V, float* S,
                             float* y);
void wkv7_block_portable(const float* r, const float* w, const float* k, const float* v, const float* a,
                         const float* b, int64_t T, int64_t stride, int64_t N, int64_t i0, int64_t V, float* S,
                         float* y);
void wkv7_block_avx512(const float* r, const float* w, const float* k, const float* v, const float* a, const float* b,
                       int64_t T, int64_t stride, int64_t N, int64_t i0, int64_t V, float* S, float* y);
}  // namespace detail

}  // namespace gander::ops
