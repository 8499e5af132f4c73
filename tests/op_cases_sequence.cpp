// The op-test cases of the ops that walk a sequence: attention, the WKV7 recurrence and its
// prepare/output steps, and repeated KV heads (the rest are in op_registry.cpp).
#include <cmath>

#include "core/cpu.h"
#include "op_cases.h"
#include "ops/attention.h"
#include "ops/repeat_heads.h"
#include "ops/wkv7.h"

namespace gander::test {

OpCase attention_case() {
  OpCase c;
  c.name = "attention";
  // T, Hq, Hkv, D, pos0
  c.grid = {{1, 1, 1, 1, 0}, {3, 2, 1, 64, 0}, {5, 14, 2, 64, 7}, {17, 4, 4, 128, 0}, {1, 6, 3, 32, 40}};
  c.forward = [](const Sizes& s, Rng& rng) {
    const int64_t T = s[0], Hq = s[1], Hkv = s[2], D = s[3], pos0 = s[4], S = pos0 + T;
    Tensor q = random_tensor(rng, {T, Hq, D}), k = random_tensor(rng, {S, Hkv, D}), v = random_tensor(rng, {S, Hkv, D});
    Tensor ref = Tensor::empty(DType::F32, q.shape()), fast = Tensor::empty(DType::F32, q.shape());
    ops::ref::attention(q, k, v, pos0, ref);
    ops::fast::attention(q, k, v, pos0, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

namespace {
// Inputs with the value ranges the model produces: w in (0.545, 1), a = -kappa^, b = kappa^ * iclr.
struct Wkv7Inputs {
  Tensor r, w, k, v, a, b;
};
Wkv7Inputs wkv7_inputs(Rng& rng, int64_t T, int64_t H, int64_t N) {
  const int64_t C = H * N;
  Wkv7Inputs in{random_tensor(rng, {T, C}), Tensor::empty(DType::F32, {T, C}), random_tensor(rng, {T, C}, 0.3f),
                random_tensor(rng, {T, C}), Tensor::empty(DType::F32, {T, C}), Tensor::empty(DType::F32, {T, C})};
  float *w = in.w.data<float>(), *a = in.a.data<float>(), *b = in.b.data<float>();
  Tensor kk = random_tensor(rng, {T, C});
  float* pk = kk.data<float>();
  for (int64_t i = 0; i < T * H; ++i) {
    double n = 0;
    for (int64_t j = 0; j < N; ++j) n += double(pk[i * N + j]) * pk[i * N + j];
    for (int64_t j = 0; j < N; ++j) {
      const float kh = float(pk[i * N + j] / std::sqrt(n)), iclr = float(rng.uniform());
      a[i * N + j] = -kh;
      b[i * N + j] = kh * iclr;
      w[i * N + j] = std::exp(-0.6065306597f * float(rng.uniform()));
    }
  }
  return in;
}
}  // namespace

OpCase wkv7_case() {
  OpCase c;
  c.name = "wkv7";
  // Head size 64 (released models) and the other multiples of 16 a RADLADS student may have
  // (128: Qwen2's head_dim), decode steps and chunks; 20 is no multiple of 16 (reference path).
  c.grid = {{1, 1, 64},  {1, 3, 64},  {5, 2, 64}, {64, 4, 64}, {300, 1, 64}, {3, 2, 16}, {1, 2, 128},
            {37, 3, 128}, {200, 1, 128}, {9, 2, 48}, {1, 1, 80}, {17, 2, 80}, {33, 1, 32}, {4, 2, 20}};
  c.forward = [](const Sizes& s, Rng& rng) {
    const int64_t T = s[0], H = s[1], N = s[2];
    Wkv7Inputs in = wkv7_inputs(rng, T, H, N);
    Tensor s0 = random_tensor(rng, {H, N, N}, 0.5f);
    Tensor s_ref = s0.clone(), s_fast = s0.clone();
    Tensor y_ref = Tensor::empty(DType::F32, {T, H * N}), y_fast = Tensor::empty(DType::F32, {T, H * N});
    const ops::Wkv7Args args{in.r, in.w, in.k, in.v, in.a, in.b};
    ops::ref::wkv7(args, s_ref, y_ref);
    ops::fast::wkv7(args, s_fast, y_fast);
    OpComparison cmp;
    compare(y_fast, y_ref, cmp);
    OpComparison st;
    compare(s_fast, s_ref, st);
    cmp.max_abs_diff = std::fmax(cmp.max_abs_diff / std::fmax(cmp.ref_scale, 1e-30),
                                 st.max_abs_diff / std::fmax(st.ref_scale, 1e-30));
    cmp.ref_scale = 1;
    cmp.tolerance = kF32Tol;
    return cmp;
  };
  return c;
}

// The kernels themselves, portable and AVX-512 builds: head size 64's own, and the value blocks
// that serve every other multiple of 16.
OpCase wkv7_portable_case() {
  OpCase c;
  c.name = "wkv7_portable_vs_avx512";
  c.grid = {{1, 1, 64}, {7, 2, 64}, {100, 1, 64}, {1, 2, 128}, {7, 2, 128}, {100, 1, 128}, {5, 1, 80}, {3, 2, 16}, {6, 1, 112}};
  c.forward = [](const Sizes& s, Rng& rng) {
    const int64_t T = s[0], H = s[1], N = s[2];
    Wkv7Inputs in = wkv7_inputs(rng, T, H, N);
    Tensor s0 = random_tensor(rng, {H, N, N}, 0.5f);
    Tensor s_ref = s0.clone(), y_ref = Tensor::empty(DType::F32, {T, H * N});
    ops::ref::wkv7({in.r, in.w, in.k, in.v, in.a, in.b}, s_ref, y_ref);
    OpComparison cmp;
    cmp.tolerance = kF32Tol;
    // Runs fn(head offset, head state, block start) over every head and block, then compares.
    auto check = [&](int64_t block, const std::function<void(int64_t, float*, int64_t, float*)>& fn) {
      Tensor st = s0.clone(), y = Tensor::empty(DType::F32, {T, H * N});
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i0 = 0; i0 < N; i0 += block) fn(h * N, st.data<float>() + h * N * N, i0, y.data<float>() + h * N);
      compare(y, y_ref, cmp);
      compare(st, s_ref, cmp);
    };
    const float *r = in.r.data<float>(), *w = in.w.data<float>(), *k = in.k.data<float>();
    const float *v = in.v.data<float>(), *a = in.a.data<float>(), *b = in.b.data<float>();
    const bool avx512 = cpu_has_avx512();
    for (auto fn : {ops::detail::wkv7_head64_portable, ops::detail::wkv7_head64_avx512}) {
      if (N != 64 || (fn == ops::detail::wkv7_head64_avx512 && !avx512)) continue;
      check(N, [&](int64_t o, float* S, int64_t, float* y) { fn(r + o, w + o, k + o, v + o, a + o, b + o, T, H * N, S, y); });
    }
    for (auto fn : {ops::detail::wkv7_block_portable, ops::detail::wkv7_block_avx512}) {
      if (fn == ops::detail::wkv7_block_avx512 && !avx512) continue;
      check(64, [&](int64_t o, float* S, int64_t i0, float* y) {
        fn(r + o, w + o, k + o, v + o, a + o, b + o, T, H * N, N, i0, std::min<int64_t>(64, N - i0), S, y);
      });
    }
    return cmp;
  };
  return c;
}

OpCase wkv7_prepare_case(ops::Wkv7Keys keys) {
  OpCase c;
  c.name = keys == ops::Wkv7Keys::Goose ? "wkv7_prepare" : "wkv7_prepare_balanced";
  c.grid = {{1, 1, 64}, {3, 2, 64}, {17, 12, 64}, {5, 3, 16}, {4, 2, 128}};
  c.forward = [keys](const Sizes& s, Rng& rng) {
    const int64_t T = s[0], C = s[1] * s[2], N = s[2];
    Tensor k = random_tensor(rng, {T, C}), d = random_tensor(rng, {T, C}, 3.0f), a = random_tensor(rng, {T, C});
    for (int64_t i = 0; i < T * C; ++i) a.data<float>()[i] = 1.0f / (1.0f + std::exp(-a.data<float>()[i]));
    Tensor kk = random_tensor(rng, {C}), ka = random_tensor(rng, {C});
    Tensor k1 = k.clone(), d1 = d.clone(), k2 = k.clone(), d2 = d.clone();
    Tensor ai1 = Tensor::empty(DType::F32, {T, C}), bi1 = Tensor::empty(DType::F32, {T, C});
    Tensor ai2 = Tensor::empty(DType::F32, {T, C}), bi2 = Tensor::empty(DType::F32, {T, C});
    const bool goose = keys == ops::Wkv7Keys::Goose;
    const Tensor *pkk = goose ? &kk : nullptr, *pka = goose ? &ka : nullptr;
    ops::Wkv7Prepare p1{k1, d1, a, pkk, pka, ai1, bi1, keys}, p2{k2, d2, a, pkk, pka, ai2, bi2, keys};
    ops::ref::wkv7_prepare(p1, N);
    ops::fast::wkv7_prepare(p2, N);
    OpComparison cmp;
    cmp.tolerance = kF32Tol;
    for (auto [f, r] : {std::pair{&k2, &k1}, {&d2, &d1}, {&ai2, &ai1}, {&bi2, &bi1}}) {
      OpComparison one;
      compare(*f, *r, one);
      cmp.max_abs_diff = std::fmax(cmp.max_abs_diff, one.max_abs_diff / std::fmax(one.ref_scale, 1e-30));
    }
    cmp.ref_scale = 1;
    return cmp;
  };
  return c;
}

// The output in each of its forms: GroupNorm or a scale, with or without the bonus.
OpCase wkv7_output_case(bool group_norm, bool bonus) {
  OpCase c;
  c.name = concat("wkv7_output", group_norm ? "" : "_scaled", bonus ? "" : "_no_bonus");
  c.grid = {{1, 1, 64}, {3, 2, 64}, {17, 12, 64}, {5, 3, 16}, {4, 2, 8}, {3, 2, 128}};  // T, heads, head size
  c.forward = [group_norm, bonus](const Sizes& s, Rng& rng) {
    const int64_t T = s[0], C = s[1] * s[2], N = s[2];
    Tensor y = random_tensor(rng, {T, C}, 3.0f), r = random_tensor(rng, {T, C}), k = random_tensor(rng, {T, C});
    Tensor v = random_tensor(rng, {T, C}), g = random_tensor(rng, {T, C});
    Tensor lw = random_tensor(rng, {C}), lb = random_tensor(rng, {C}), rk = random_tensor(rng, {C});
    Tensor ref = Tensor::empty(DType::F32, {T, C}), fast = y.clone();
    const Tensor *plw = group_norm ? &lw : nullptr, *plb = group_norm ? &lb : nullptr, *prk = bonus ? &rk : nullptr;
    const float scale = 1.0f / std::sqrt(float(N));
    ops::ref::wkv7_output({y, r, k, v, g, plw, plb, prk, 64e-5f, scale}, N, ref);
    ops::fast::wkv7_output({fast, r, k, v, g, plw, plb, prk, 64e-5f, scale}, N, fast);  // in place, as models run it
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

OpCase repeat_heads_case() {
  OpCase c;
  c.name = "repeat_heads";
  c.grid = {{1, 1, 2, 64}, {3, 2, 4, 16}, {17, 3, 1, 8}, {5, 1, 7, 128}};  // T, KV heads, group, head size
  c.forward = [](const Sizes& s, Rng& rng) {
    const int64_t T = s[0], KV = s[1] * s[3], W = KV * s[2];
    Tensor x = random_tensor(rng, {T, KV}), ref = Tensor::empty(DType::F32, {T, W});
    Tensor fast = Tensor::empty(DType::F32, {T, W});
    ops::ref::repeat_heads(x, s[2], s[3], ref);
    ops::fast::repeat_heads(x, s[2], s[3], fast);
    OpComparison cmp;
    compare(fast, ref, cmp);
    cmp.tolerance = 0;  // a copy
    return cmp;
  };
  return c;
}

}  // namespace gander::test
