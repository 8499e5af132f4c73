#include "qwen2_reference.h"

#include <algorithm>
#include <cmath>

namespace gander::test {
namespace {

using Rows = std::vector<std::vector<double>>;

const std::vector<double>& at(const NamedWeights& w, const std::string& name) {
  const auto it = w.find(name);
  if (it == w.end()) throw std::runtime_error("reference: no weight " + name);
  return it->second;
}

// y = x W^T (+ b), W [out, in] row-major.
Rows linear(const Rows& x, const std::vector<double>& W, const std::vector<double>* b, int64_t out) {
  const size_t in = x.empty() ? 0 : x[0].size();
  Rows y(x.size(), std::vector<double>(size_t(out)));
  for (size_t r = 0; r < x.size(); ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = b ? (*b)[size_t(o)] : 0.0;
      for (size_t i = 0; i < in; ++i) s += x[r][i] * W[size_t(o) * in + i];
      y[r][size_t(o)] = s;
    }
  return y;
}

Rows rms_norm(const Rows& x, const std::vector<double>& w, double eps) {
  Rows y = x;
  for (auto& row : y) {
    double ss = 0;
    for (double v : row) ss += v * v;
    const double inv = 1.0 / std::sqrt(ss / double(row.size()) + eps);
    for (size_t i = 0; i < row.size(); ++i) row[i] *= inv * w[i];
  }
  return y;
}

// rotate_half RoPE of every head of row t (position t), as transformers applies it.
void rope(Rows& x, int64_t heads, int64_t hd, double theta) {
  for (size_t t = 0; t < x.size(); ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i) {
        const double a = double(t) * std::pow(theta, -2.0 * double(i) / double(hd));
        double& x1 = x[t][size_t(h * hd + i)];
        double& x2 = x[t][size_t(h * hd + i + hd / 2)];
        const double u = x1 * std::cos(a) - x2 * std::sin(a), v = x2 * std::cos(a) + x1 * std::sin(a);
        x1 = u, x2 = v;
      }
}

Rows causal_attention(const Rows& q, const Rows& k, const Rows& v, const qwen2::Config& c) {
  const int64_t hd = c.head_dim, group = c.n_head / c.n_kv_head;
  Rows out(q.size(), std::vector<double>(size_t(c.n_head * hd)));
  for (int64_t h = 0; h < c.n_head; ++h) {
    const int64_t g = h / group;
    for (size_t t = 0; t < q.size(); ++t) {
      std::vector<double> p(t + 1);
      double m = -INFINITY, z = 0;
      for (size_t j = 0; j <= t; ++j) {
        double d = 0;
        for (int64_t i = 0; i < hd; ++i) d += q[t][size_t(h * hd + i)] * k[j][size_t(g * hd + i)];
        m = std::max(m, p[j] = d / std::sqrt(double(hd)));
      }
      for (double& e : p) z += (e = std::exp(e - m));
      for (int64_t i = 0; i < hd; ++i) {
        double o = 0;
        for (size_t j = 0; j <= t; ++j) o += p[j] / z * v[j][size_t(g * hd + i)];
        out[t][size_t(h * hd + i)] = o;
      }
    }
  }
  return out;
}

void add(Rows& x, const Rows& y) {
  for (size_t r = 0; r < x.size(); ++r)
    for (size_t i = 0; i < x[r].size(); ++i) x[r][i] += y[r][i];
}

}  // namespace

double qwen2_reference_loss(const qwen2::Config& c, const NamedWeights& w, std::span<const int32_t> ids,
                            std::span<const int32_t> targets, int64_t batch, int64_t seq) {
  const int64_t D = c.hidden, hd = c.head_dim;
  const auto& embed = at(w, "model.embed_tokens.weight");
  const auto& head = c.tied_embeddings ? embed : at(w, "lm_head.weight");
  double total = 0;
  int64_t counted = 0;
  for (int64_t b = 0; b < batch; ++b) {
    Rows x(size_t(seq), std::vector<double>(static_cast<size_t>(D)));
    for (int64_t t = 0; t < seq; ++t)
      for (int64_t i = 0; i < D; ++i) x[size_t(t)][size_t(i)] = embed[size_t(ids[size_t(b * seq + t)] * D + i)];
    for (int64_t l = 0; l < c.n_layer; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      const Rows h = rms_norm(x, at(w, p + "input_layernorm.weight"), c.rms_eps);
      Rows q = linear(h, at(w, p + "self_attn.q_proj.weight"), &at(w, p + "self_attn.q_proj.bias"), c.n_head * hd);
      Rows k = linear(h, at(w, p + "self_attn.k_proj.weight"), &at(w, p + "self_attn.k_proj.bias"), c.n_kv_head * hd);
      const Rows v = linear(h, at(w, p + "self_attn.v_proj.weight"), &at(w, p + "self_attn.v_proj.bias"), c.n_kv_head * hd);
      rope(q, c.n_head, hd, c.rope_theta);
      rope(k, c.n_kv_head, hd, c.rope_theta);
      add(x, linear(causal_attention(q, k, v, c), at(w, p + "self_attn.o_proj.weight"), nullptr, D));
      const Rows m = rms_norm(x, at(w, p + "post_attention_layernorm.weight"), c.rms_eps);
      Rows gate = linear(m, at(w, p + "mlp.gate_proj.weight"), nullptr, c.intermediate);
      const Rows up = linear(m, at(w, p + "mlp.up_proj.weight"), nullptr, c.intermediate);
      for (size_t r = 0; r < gate.size(); ++r)
        for (size_t i = 0; i < gate[r].size(); ++i) gate[r][i] = gate[r][i] / (1 + std::exp(-gate[r][i])) * up[r][i];
      add(x, linear(gate, at(w, p + "mlp.down_proj.weight"), nullptr, D));
    }
    const Rows logits = linear(rms_norm(x, at(w, "model.norm.weight"), c.rms_eps), head, nullptr, c.vocab);
    for (int64_t t = 0; t < seq; ++t) {
      const int32_t target = targets[size_t(b * seq + t)];
      if (target < 0) continue;
      const auto& z = logits[size_t(t)];
      const double m = *std::max_element(z.begin(), z.end());
      double e = 0;
      for (double q : z) e += std::exp(q - m);
      total += m + std::log(e) - z[size_t(target)];
      ++counted;
    }
  }
  return total / double(counted);
}

}  // namespace gander::test
