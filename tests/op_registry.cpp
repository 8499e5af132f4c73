#include "op_registry.h"
#include "op_cases.h"
#include "grad_cases.h"

#include <cmath>

#include "core/cpu.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/rope.h"
#include "ops/softmax.h"
#include "ops/tiles.h"

namespace gander::test {


Tensor random_tensor(Rng& rng, Shape shape, float scale, DType dtype) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = float(rng.normal()) * scale;
  return dtype == DType::F32 ? t : t.to(dtype);
}

void compare(const Tensor& fast, const Tensor& ref, OpComparison& c) {
  const float *f = fast.data<float>(), *r = ref.data<float>();
  for (int64_t i = 0; i < ref.numel(); ++i) {
    c.max_abs_diff = std::fmax(c.max_abs_diff, std::fabs(double(f[i]) - r[i]));
    if (std::isnan(f[i]) != std::isnan(r[i])) c.max_abs_diff = INFINITY;
    c.ref_scale = std::fmax(c.ref_scale, std::fabs(double(r[i])));
  }
}

OpComparison compared(const Tensor& fast, const Tensor& ref, double tolerance) {
  OpComparison c;
  compare(fast, ref, c);
  c.tolerance = tolerance;
  return c;
}

namespace {

// tiled: W (bf16 or f32) is moved into tiles for the fast path; the reference reads the row-major copy.
OpCase linear_case(DType wt, ops::Precision p, bool tiled = false) {
  OpCase c;
  c.name = concat("linear_w", dtype_name(wt), tiled ? "_tiles_" : "_", ops::precision_name(p));
  c.grid = {{1, 1, 1},      {1, 17, 5},    {2, 33, 70},     {3, 130, 257},    {4, 64, 64},     {1, 768, 200},
            {2, 96, 1500},  {5, 129, 65},  {37, 200, 513},  {64, 768, 96},    {100, 64, 17},   {33, 1030, 40},
            {70, 600, 200}};
  c.forward = [wt, p, tiled](const Sizes& s, Rng& rng) {
    const int64_t R = s[0], K = s[1], N = s[2];
    Tensor x = random_tensor(rng, {R, K});
    Tensor W = random_tensor(rng, {N, K}, 1.0f / std::sqrt(float(K)), wt);
    Tensor bias = random_tensor(rng, {N});
    Tensor ref = Tensor::empty(DType::F32, {R, N}), fast = Tensor::empty(DType::F32, {R, N});
    ops::ref::linear(x, W, &bias, ref);
    ops::fast::linear(x, tiled ? ops::tile_matrix(W) : W, &bias, fast, p);
    OpComparison cmp;
    compare(fast, ref, cmp);
    // The bf16 path only differs from f32 where it runs on the matrix units (more than 4 rows).
    cmp.tolerance = (p == ops::Precision::BF16 && wt == DType::BF16 && R > ops::kGemvMaxRows) ? kBf16Tol : kF32Tol;
    return cmp;
  };
  return c;
}

// The fusions of a LinearJob (input mix, activation, accumulation) on every path: matrix-vector
// (up to 4 rows), AMX (tiled bf16 at bf16 precision) and the library GEMMs with passes around them.
// Sizes: rows, K, N, fusion (0 act, 1 accumulate, 2 mix + act, 3 mix + accumulate).
OpCase linear_fused_case(DType wt, ops::Precision p, bool tiled) {
  OpCase c;
  c.name = concat("linear_fused_w", dtype_name(wt), tiled ? "_tiles_" : "_", ops::precision_name(p));
  c.grid = {{1, 17, 5, 0},   {2, 33, 70, 1},  {4, 64, 64, 2},   {3, 130, 257, 3}, {5, 129, 65, 0},
            {37, 200, 513, 1}, {64, 768, 96, 2}, {100, 64, 17, 3}, {33, 70, 40, 2}, {48, 96, 769, 0}};
  c.forward = [wt, p, tiled](const Sizes& s, Rng& rng) {
    const int64_t R = s[0], K = s[1], N = s[2], fusion = s[3];
    const ops::Act acts[] = {ops::Act::Tanh, ops::Act::Sigmoid, ops::Act::ReluSquared, ops::Act::Silu};
    Tensor x = random_tensor(rng, {R, K}), shifted = random_tensor(rng, {R, K}), mix = random_tensor(rng, {K}, 0.5f);
    Tensor W = random_tensor(rng, {N, K}, 1.0f / std::sqrt(float(K)), wt);
    Tensor bias = random_tensor(rng, {N});
    Tensor ref = random_tensor(rng, {R, N}), fast = Tensor::empty(DType::F32, {R, N});
    fast.copy_from(ref);  // what accumulation adds to
    const Tensor Wf = tiled ? ops::tile_matrix(W) : W;
    ops::LinearJob rj{x, W, &bias, ref}, fj{x, Wf, &bias, fast};
    for (ops::LinearJob* j : {&rj, &fj}) {
      if (fusion % 2 == 0) j->act = acts[(R + K) % 4];
      j->accumulate = fusion % 2 == 1;
      if (fusion >= 2) {
        j->mix_to = &shifted;
        j->mix = &mix;
      }
    }
    ops::ref::linear(rj);
    ops::fast::linear(fj, p);
    return compared(fast, ref, (p == ops::Precision::BF16 && wt == DType::BF16 && R > ops::kGemvMaxRows) ? kBf16Tol : kF32Tol);
  };
  return c;
}

OpCase gemv_portable_case() {
  OpCase c;
  c.name = "gemv_portable_vs_avx512";
  c.grid = {{1, 7, 3}, {2, 64, 33}, {3, 100, 17}, {4, 257, 40}, {1, 768, 300}, {2, 33, 129}};
  c.forward = [](const Sizes& s, Rng& rng) {
    const int64_t R = s[0], K = s[1], N = s[2];
    OpComparison cmp;
    cmp.tolerance = kF32Tol;
    for (DType wt : {DType::F32, DType::BF16, DType::F16}) {
      Tensor x = random_tensor(rng, {R, K});
      Tensor W = random_tensor(rng, {N, K}, 0.1f, wt);
      Tensor ref = Tensor::empty(DType::F32, {R, N}), a = Tensor::empty(DType::F32, {R, N});
      ops::ref::linear(x, W, nullptr, ref);
      ops::detail::gemv_portable(x.data<float>(), R, W.raw(), wt, K, 0, N, a.data<float>(), N);
      compare(a, ref, cmp);
      if (cpu_has_avx512()) {
        ops::detail::gemv_avx512(x.data<float>(), R, W.raw(), wt, K, 0, N, a.data<float>(), N);
        compare(a, ref, cmp);
      }
      if (wt == DType::F16) continue;
      // The same products over the tiled copy, through the tile kernels of W's type.
      const Tensor tiles = ops::tile_matrix(W);
      auto tiled = [&](bool avx512) {
        if (wt == DType::F32) {
          const auto* t = static_cast<const float*>(tiles.storage());
          (avx512 ? ops::detail::gemv_tiles_f32_avx512 : ops::detail::gemv_tiles_f32_portable)(x.data<float>(), R, t, K,
                                                                                             0, N, a.data<float>(), N);
        } else {
          const auto* t = static_cast<const uint16_t*>(tiles.storage());
          (avx512 ? ops::detail::gemv_tiles_avx512 : ops::detail::gemv_tiles_portable)(x.data<float>(), R, t, K, 0, N,
                                                                                     a.data<float>(), N);
        }
        compare(a, ref, cmp);
      };
      tiled(false);
      if (cpu_has_avx512()) tiled(true);
    }
    return cmp;
  };
  return c;
}

OpCase linear_group_case() {
  OpCase c;
  c.name = "linear_group";
  // rows, jobs, K: several products of different widths and dtypes run as one job
  c.grid = {{1, 1, 8}, {1, 5, 200}, {2, 7, 768}, {4, 3, 1030}, {9, 4, 64}, {3, 8, 96}};
  c.forward = [](const Sizes& s, Rng& rng) {
    const int64_t R = s[0], J = s[1], K = s[2];
    std::vector<Tensor> xs, Ws, bs, refs, outs;
    const DType types[4] = {DType::BF16, DType::F32, DType::F16, DType::BF16};  // the last one tiled, f32 every other time
    for (int64_t j = 0; j < J; ++j) {
      const int64_t N = 1 + (j * 977 + 13 * K) % 1500;
      xs.push_back(random_tensor(rng, {R, K}));
      Ws.push_back(random_tensor(rng, {N, K}, 0.05f, types[j % 4]));
      bs.push_back(random_tensor(rng, {N}));
      refs.push_back(Tensor::empty(DType::F32, {R, N}));
      outs.push_back(Tensor::empty(DType::F32, {R, N}));
    }
    std::vector<ops::LinearJob> jobs;
    for (int64_t j = 0; j < J; ++j) {
      ops::ref::linear(xs[size_t(j)], Ws[size_t(j)], j % 2 ? &bs[size_t(j)] : nullptr, refs[size_t(j)]);
      if (j % 4 == 3 || j % 8 == 5) Ws[size_t(j)] = ops::tile_matrix(Ws[size_t(j)]);
      jobs.push_back({xs[size_t(j)], Ws[size_t(j)], j % 2 ? &bs[size_t(j)] : nullptr, outs[size_t(j)]});
    }
    ops::linear_group(jobs);
    OpComparison cmp;
    cmp.tolerance = kF32Tol;
    for (int64_t j = 0; j < J; ++j) compare(outs[size_t(j)], refs[size_t(j)], cmp);
    return cmp;
  };
  return c;
}

OpCase activation_case(ops::Act act) {
  OpCase c;
  c.name = concat("activation_", ops::act_name(act));
  c.grid = {{1, 1}, {3, 17}, {5, 1000}, {300, 257}};
  c.forward = [act](const Sizes& s, Rng& rng) {
    Tensor x = random_tensor(rng, {s[0], s[1]}, 4.0f);
    Tensor ref = Tensor::empty(DType::F32, x.shape()), fast = Tensor::empty(DType::F32, x.shape());
    ops::ref::activation(act, x, ref);
    ops::fast::activation(act, x, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

OpCase lerp_case() {
  OpCase c;
  c.name = "lerp";
  c.grid = {{1, 1}, {3, 17}, {70, 768}, {513, 129}};
  c.forward = [](const Sizes& s, Rng& rng) {
    Tensor a = random_tensor(rng, {s[0], s[1]}), b = random_tensor(rng, {s[0], s[1]});
    Tensor mix = random_tensor(rng, {s[1]});
    Tensor ref = Tensor::empty(DType::F32, a.shape()), fast = Tensor::empty(DType::F32, a.shape());
    ops::ref::lerp(a, b, mix, ref);
    ops::fast::lerp(a, b, mix, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

OpCase group_norm_case() {
  OpCase c;
  c.name = "group_norm";  // groups = 1 is layer_norm
  c.grid = {{1, 1, 1}, {3, 1, 17}, {5, 4, 64}, {33, 12, 64}, {2, 1, 2049}, {7, 3, 5}};
  c.forward = [](const Sizes& s, Rng& rng) {
    const int64_t R = s[0], G = s[1], C = s[1] * s[2];
    Tensor x = random_tensor(rng, {R, C}, 3.0f);
    Tensor w = random_tensor(rng, {C}), b = random_tensor(rng, {C});
    Tensor ref = Tensor::empty(DType::F32, x.shape()), fast = Tensor::empty(DType::F32, x.shape());
    ops::ref::group_norm(x, G, w, b, 64e-5f, ref);
    ops::fast::group_norm(x, G, w, b, 64e-5f, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

OpCase rms_norm_case() {
  OpCase c;
  c.name = "rms_norm";
  c.grid = {{1, 1}, {3, 17}, {64, 896}, {5, 2049}};
  c.forward = [](const Sizes& s, Rng& rng) {
    Tensor x = random_tensor(rng, {s[0], s[1]}, 2.0f), w = random_tensor(rng, {s[1]});
    Tensor ref = Tensor::empty(DType::F32, x.shape()), fast = Tensor::empty(DType::F32, x.shape());
    ops::ref::rms_norm(x, w, 1e-6f, ref);
    ops::fast::rms_norm(x, w, 1e-6f, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

OpCase l2_norm_case() {
  OpCase c;
  c.name = "l2_norm_groups";
  c.grid = {{1, 1, 1}, {3, 2, 64}, {17, 12, 64}, {5, 3, 7}};
  c.forward = [](const Sizes& s, Rng& rng) {
    Tensor x = random_tensor(rng, {s[0], s[1] * s[2]});
    if (s[0] > 1) x.row(1).fill_zero();  // a zero slice exercises the eps floor
    Tensor ref = Tensor::empty(DType::F32, x.shape()), fast = Tensor::empty(DType::F32, x.shape());
    ops::ref::l2_norm_groups(x, s[2], 1e-12f, ref);
    ops::fast::l2_norm_groups(x, s[2], 1e-12f, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

OpCase softmax_case() {
  OpCase c;
  c.name = "softmax";
  c.grid = {{1, 1}, {3, 17}, {7, 8256}, {65, 129}};
  c.forward = [](const Sizes& s, Rng& rng) {
    Tensor x = random_tensor(rng, {s[0], s[1]}, 5.0f);
    Tensor ref = Tensor::empty(DType::F32, x.shape()), fast = Tensor::empty(DType::F32, x.shape());
    ops::ref::softmax(x, ref);
    ops::fast::softmax(x, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

OpCase rope_case() {
  OpCase c;
  c.name = "rope";
  c.grid = {{1, 1, 2, 0}, {3, 2, 64, 5}, {17, 14, 64, 1000}, {5, 3, 128, 31}};
  c.forward = [](const Sizes& s, Rng& rng) {
    Tensor x = random_tensor(rng, {s[0], s[1], s[2]});
    std::vector<int64_t> pos(static_cast<size_t>(s[0]));
    for (size_t t = 0; t < pos.size(); ++t) pos[t] = s[3] + int64_t(t) * 3;
    Tensor ref = Tensor::empty(DType::F32, x.shape()), fast = Tensor::empty(DType::F32, x.shape());
    ops::ref::rope(x, pos, 1e6, ref);
    ops::fast::rope(x, pos, 1e6, fast);
    return compared(fast, ref, kF32Tol);
  };
  return c;
}

}  // namespace

namespace {

OpCase with_gradient(OpCase c, GradientCase g) {
  c.gradient = std::move(g);
  return c;
}

// An op that only has a backward worth checking on its own (a loss, or the products of a
// linear layer's backward).
OpCase gradient_only(std::string name, GradientCase g) {
  OpCase c;
  c.name = std::move(name);
  c.gradient = std::move(g);
  return c;
}

}  // namespace

const std::vector<OpCase>& op_registry() {
  static const std::vector<OpCase> cases = [] {
    std::vector<OpCase> v;
    for (DType wt : {DType::F32, DType::BF16, DType::F16}) v.push_back(linear_case(wt, ops::Precision::F32));
    v.push_back(linear_case(DType::BF16, ops::Precision::BF16));
    v.push_back(linear_case(DType::BF16, ops::Precision::F32, true));
    v.push_back(linear_case(DType::BF16, ops::Precision::BF16, true));
    v.push_back(linear_case(DType::F32, ops::Precision::F32, true));
    for (DType wt : {DType::F32, DType::F16}) v.push_back(linear_fused_case(wt, ops::Precision::F32, false));
    v.push_back(linear_fused_case(DType::BF16, ops::Precision::BF16, false));
    v.push_back(linear_fused_case(DType::BF16, ops::Precision::F32, true));
    v.push_back(linear_fused_case(DType::BF16, ops::Precision::BF16, true));
    v.push_back(linear_fused_case(DType::F32, ops::Precision::F32, true));
    v.push_back(gemv_portable_case());
    v.push_back(linear_group_case());
    v.push_back(gradient_only("linear_backward", linear_gradient()));
    for (ops::Act a : {ops::Act::Tanh, ops::Act::Sigmoid, ops::Act::Exp, ops::Act::Softplus, ops::Act::ReluSquared,
                       ops::Act::Silu})
      v.push_back(with_gradient(activation_case(a), activation_gradient(a)));
    v.push_back(with_gradient(lerp_case(), lerp_gradient()));
    v.push_back(with_gradient(group_norm_case(), group_norm_gradient()));
    v.push_back(with_gradient(rms_norm_case(), rms_norm_gradient()));
    v.push_back(l2_norm_case());  // (its backward is inside wkv7_prepare's, checked there)
    v.push_back(softmax_case());
    v.push_back(with_gradient(rope_case(), rope_gradient()));
    v.push_back(with_gradient(attention_case(), attention_gradient()));
    v.push_back(with_gradient(wkv7_case(), wkv7_gradient()));
    v.push_back(wkv7_portable_case());
    for (ops::Wkv7Keys keys : {ops::Wkv7Keys::Goose, ops::Wkv7Keys::Balanced})
      v.push_back(with_gradient(wkv7_prepare_case(keys), wkv7_prepare_gradient(keys)));
    for (bool group_norm : {true, false})
      for (bool bonus : {true, false})
        v.push_back(with_gradient(wkv7_output_case(group_norm, bonus), wkv7_output_gradient(group_norm, bonus)));
    v.push_back(with_gradient(repeat_heads_case(), repeat_heads_gradient()));
    v.push_back(gradient_only("gla", gla_gradient()));
    v.push_back(gradient_only("cross_entropy_head", cross_entropy_gradient()));
    v.push_back(gradient_only("kl_divergence_head", kl_divergence_gradient()));
    v.push_back(gradient_only("l2_distance", l2_distance_gradient()));
    return v;
  }();
  return cases;
}

}  // namespace gander::test
