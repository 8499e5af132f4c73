#include "models/qwen2/runner.h"


namespace gander::qwen2 {

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
    GANDER_CHECK(int64_t(ids.size()) <= context_room(), "context full: ", cache_.length + int64_t(ids.size()),
                 " tokens exceed the model's max_position_embeddings = ", m_->config().max_positions);
    m_->forward(ids, cache_, logits, all);
  }
  void reset() override {
    cache_.reset();
    ++epoch_;
  }
  int64_t context_limit() const override { return m_->config().max_positions; }
  int64_t context_room() const override { return m_->config().max_positions - cache_.length; }
  // Tokens after a snapshot only append to the cache, so coming back is cutting its length.
  struct CacheSnapshot final : Snapshot {
    int64_t length, epoch;
  };
  std::unique_ptr<Snapshot> snapshot() const override {
    auto s = std::make_unique<CacheSnapshot>();
    s->length = cache_.length;
    s->epoch = epoch_;
    return s;
  }
  void restore(const Snapshot& snap) override {
    const auto& s = dynamic_cast<const CacheSnapshot&>(snap);
    GANDER_CHECK(s.epoch == epoch_ && s.length <= cache_.length,
                 "cannot go back to an earlier point: the KV cache was reset or replaced since");
    cache_.length = s.length;
  }
  void save_state(const std::string& path) const override { save_cache(path, cache_, m_->config(), m_->fingerprint()); }
  void load_state(const std::string& path) override {
    cache_ = load_cache(path, m_->config(), m_->fingerprint());
    ++epoch_;
  }
  void set_precision(ops::Precision p) override { m_->options().precision = p; }
  ops::Precision precision() const override { return m_->options().precision; }
  double decode_bytes_per_token(int64_t position) const override {
    const Config& c = m_->config();
    const int64_t matrices = m_->weights().bytes() - (c.tied_embeddings ? 0 : int64_t(m_->weights().embed.nbytes()));
    return double(matrices) + double(2 * c.n_layer * position * c.n_kv_head * c.head_dim * 4);
  }
  double decode_bytes_per_step(int64_t position, int64_t batch) const override {
    const Config& c = m_->config();
    const double kv = double(2 * c.n_layer * position * c.n_kv_head * c.head_dim * 4);
    return decode_bytes_per_token(position) + double(batch - 1) * kv;  // the weights once
  }
  void start_batch(int64_t batch) override {
    GANDER_CHECK(batch >= 1, "start_batch: batch must be at least 1, got ", batch);
    batch_.clear();
    for (int64_t i = 0; i < batch; ++i) batch_.push_back(cache_.clone());
  }
  void feed_batch(std::span<const int32_t> tokens, Tensor& logits) override {
    GANDER_CHECK(tokens.size() == batch_.size(), "feed_batch: ", tokens.size(), " tokens for ", batch_.size(),
                 " sequences");
    std::vector<SequenceInput> in;
    for (size_t i = 0; i < tokens.size(); ++i) {
      GANDER_CHECK(batch_[i].length < m_->config().max_positions, "context full: sequence ", i, " holds ",
                   batch_[i].length, " tokens (max_position_embeddings)");
      in.push_back({tokens.subspan(i, 1), &batch_[i]});
    }
    m_->forward_batch(in, logits);
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
  std::vector<KvCache> batch_;  // the sequences of start_batch
  int64_t epoch_ = 0;  // counts resets and loads: a snapshot from before one cannot be restored
};
}  // namespace

std::unique_ptr<Runner> make_runner(std::unique_ptr<Model> model) { return std::make_unique<Qwen2Runner>(std::move(model)); }

}  // namespace gander::qwen2
