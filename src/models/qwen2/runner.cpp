#include "models/qwen2/runner.h"

#include "io/checkpoint.h"
#include "io/safetensors.h"

namespace gander::qwen2 {

void save_cache(const std::string& path, const KvCache& cache, const Config& c) {
  io::NamedTensors ts;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    if (cache.length == 0) break;
    ts.emplace_back(concat("layers.", l, ".k"), cache.k[size_t(l)].rows(0, cache.length));
    ts.emplace_back(concat("layers.", l, ".v"), cache.v[size_t(l)].rows(0, cache.length));
  }
  io::save_safetensors(path, ts, {{"format", "gander-qwen2-kv"}, {"version", "1"}, {"model", c.describe()},
                                  {"length", std::to_string(cache.length)}});
}

KvCache load_cache(const std::string& path, const Config& c) {
  const io::Checkpoint ck = io::load_checkpoint(path);
  auto meta = [&](const char* key) {
    auto it = ck.metadata().find(key);
    GANDER_CHECK(it != ck.metadata().end(), path, ": not a gander Qwen2 KV-cache file (no '", key, "' metadata)");
    return it->second;
  };
  GANDER_CHECK(meta("format") == "gander-qwen2-kv", path, ": not a gander Qwen2 KV-cache file");
  GANDER_CHECK(meta("model") == c.describe(), path, ": cache belongs to a model of shape ", meta("model"), ", not ",
               c.describe());
  KvCache kv = KvCache::empty(c);
  const int64_t len = std::stoll(meta("length"));
  kv.reserve(c, std::max<int64_t>(len, 1));
  for (int64_t l = 0; l < c.n_layer && len > 0; ++l) {
    const Tensor& k = ck.get(concat("layers.", l, ".k"));
    const Tensor& v = ck.get(concat("layers.", l, ".v"));
    check_shape(k, {len, c.n_kv_head, c.head_dim}, path + ": tensor 'layers." + std::to_string(l) + ".k'");
    check_shape(v, {len, c.n_kv_head, c.head_dim}, path + ": tensor 'layers." + std::to_string(l) + ".v'");
    kv.k[size_t(l)].rows(0, len).copy_from(k);
    kv.v[size_t(l)].rows(0, len).copy_from(v);
  }
  kv.length = len;
  return kv;
}

namespace {
class Qwen2Runner final : public Runner {
 public:
  explicit Qwen2Runner(std::unique_ptr<Model> m) : m_(std::move(m)), cache_(KvCache::empty(m_->config())) {}
  std::string architecture() const override { return "qwen2"; }
  std::string describe() const override { return m_->config().describe(); }
  std::string source() const override { return m_->weights().source; }
  int64_t vocab() const override { return m_->config().vocab; }
  int64_t parameter_count() const override {
    const Config& c = m_->config();
    const int64_t Q = c.n_head * c.head_dim, KV = c.n_kv_head * c.head_dim;
    const int64_t layer = 2 * c.hidden + c.hidden * Q + 2 * c.hidden * KV + Q * c.hidden + Q + 2 * KV +
                          3 * c.hidden * c.intermediate;
    return c.vocab * c.hidden * (c.tied_embeddings ? 1 : 2) + c.hidden + c.n_layer * layer;
  }
  int64_t weight_bytes() const override { return m_->weights().bytes(); }
  DType matrix_dtype() const override { return m_->weights().embed.dtype(); }
  void feed(std::span<const int32_t> ids, Tensor& logits, bool all) override {
    GANDER_CHECK(cache_.length + int64_t(ids.size()) <= m_->config().max_positions, "context of ",
                 cache_.length + int64_t(ids.size()), " tokens exceeds max_position_embeddings = ",
                 m_->config().max_positions);
    m_->forward(ids, cache_, logits, all);
  }
  void reset() override { cache_.reset(); }
  void save_state(const std::string& path) const override { save_cache(path, cache_, m_->config()); }
  void load_state(const std::string& path) override { cache_ = load_cache(path, m_->config()); }
  void set_precision(ops::Precision p) override { m_->options().precision = p; }
  ops::Precision precision() const override { return m_->options().precision; }
  double decode_bytes_per_token(int64_t position) const override {
    const Config& c = m_->config();
    const int64_t matrices = m_->weights().bytes() - (c.tied_embeddings ? 0 : int64_t(m_->weights().embed.nbytes()));
    return double(matrices) + double(2 * c.n_layer * position * c.n_kv_head * c.head_dim * 4);
  }
  double prefill_flops(int64_t n) const override {
    const Config& c = m_->config();
    const double layer = 2.0 * double(parameter_count() - c.vocab * c.hidden * (c.tied_embeddings ? 1 : 2));
    const double attention = 4.0 * double(c.n_layer * c.n_head * c.head_dim) * double(n) * double(n + 1) / 2;
    return layer * double(n) + attention + 2.0 * double(c.vocab * c.hidden);
  }

 private:
  std::unique_ptr<Model> m_;
  KvCache cache_;
};
}  // namespace

std::unique_ptr<Runner> make_runner(std::unique_ptr<Model> model) { return std::make_unique<Qwen2Runner>(std::move(model)); }

}  // namespace gander::qwen2
