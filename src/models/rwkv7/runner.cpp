#include "models/rwkv7/runner.h"

namespace gander::rwkv7 {

namespace {
class Rwkv7Runner final : public Runner {
 public:
  Rwkv7Runner(std::unique_ptr<Model> m, State initial)
      : m_(std::move(m)), initial_(std::move(initial)), state_(initial_.clone()) {}
  std::string architecture() const override { return "rwkv7"; }
  std::string describe() const override { return m_->config().describe(); }
  std::string source() const override { return m_->weights().source; }
  int64_t vocab() const override { return m_->config().vocab; }
  int64_t parameter_count() const override { return m_->config().parameter_count(); }
  int64_t weight_bytes() const override { return m_->weights().bytes(); }
  DType matrix_dtype() const override { return m_->weights().matrix_dtype; }
  void feed(std::span<const int32_t> ids, Tensor& logits, bool all) override { m_->forward(ids, state_, logits, all); }
  void reset() override { state_ = initial_.clone(); }
  struct StateSnapshot final : Snapshot {
    State state;
  };
  std::unique_ptr<Snapshot> snapshot() const override {
    auto s = std::make_unique<StateSnapshot>();
    s->state = state_.clone();
    return s;
  }
  void restore(const Snapshot& s) override { state_ = dynamic_cast<const StateSnapshot&>(s).state.clone(); }
  void save_state(const std::string& path) const override {
    rwkv7::save_state(path, state_, m_->config(), m_->fingerprint());
  }
  void load_state(const std::string& path) override {
    state_ = rwkv7::load_state(path, m_->config(), m_->fingerprint());
  }
  void set_precision(ops::Precision p) override { m_->options().precision = p; }
  ops::Precision precision() const override { return m_->options().precision; }
  double decode_bytes_per_token(int64_t) const override {
    // Every weight except the embedding table (one row is read), plus the f32 WKV state read and written.
    const Config& c = m_->config();
    return double(m_->weights().bytes() - int64_t(m_->weights().emb.nbytes())) + 2.0 * double(c.n_layer * c.n_head * 64 * 64 * 4);
  }
  double decode_bytes_per_step(int64_t position, int64_t batch) const override {
    const double state = 2.0 * double(m_->config().n_layer * m_->config().n_head * 64 * 64 * 4);
    return decode_bytes_per_token(position) + double(batch - 1) * state;  // the weights once
  }
  void start_batch(int64_t batch) override {
    GANDER_CHECK(batch >= 1, "start_batch: batch must be at least 1, got ", batch);
    batch_.clear();
    for (int64_t i = 0; i < batch; ++i) batch_.push_back(state_.clone());
  }
  void feed_batch(std::span<const int32_t> tokens, Tensor& logits) override {
    GANDER_CHECK(tokens.size() == batch_.size(), "feed_batch: ", tokens.size(), " tokens for ", batch_.size(),
                 " sequences");
    std::vector<SequenceInput> in;
    for (size_t i = 0; i < tokens.size(); ++i) in.push_back({tokens.subspan(i, 1), &batch_[i]});
    m_->forward_batch(in, logits);
  }
  double prefill_flops(int64_t n) const override {
    const Config& c = m_->config();
    return 2.0 * double(c.parameter_count() - 2 * c.vocab * c.n_embd) * double(n) + 2.0 * double(c.vocab * c.n_embd);
  }

 private:
  std::unique_ptr<Model> m_;
  State initial_, state_;
  std::vector<State> batch_;  // the sequences of start_batch
};
}  // namespace

std::unique_ptr<Runner> make_runner(std::unique_ptr<Model> model, State initial) {
  return std::make_unique<Rwkv7Runner>(std::move(model), std::move(initial));
}

}  // namespace gander::rwkv7
