#include "models/rwkv7/state.h"

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "models/state_file.h"

namespace gander::rwkv7 {

namespace {
const StateFileKind kStateFileKind{"gander-rwkv7-state", kStateFormatVersion, "RWKV-7 state"};
}  // namespace

State State::zeros(const Config& c) {
  State s;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    s.att_shift.push_back(Tensor::zeros(DType::F32, {c.n_embd}));
    s.wkv.push_back(Tensor::zeros(DType::F32, {c.n_head, kHeadSize, kHeadSize}));
    s.ffn_shift.push_back(Tensor::zeros(DType::F32, {c.n_embd}));
  }
  return s;
}

State State::clone() const {
  State s;
  for (auto& t : att_shift) s.att_shift.push_back(t.clone());
  for (auto& t : wkv) s.wkv.push_back(t.clone());
  for (auto& t : ffn_shift) s.ffn_shift.push_back(t.clone());
  return s;
}

void State::reset() {
  for (auto* v : {&att_shift, &wkv, &ffn_shift})
    for (auto& t : *v) t.fill_zero();
}

bool State::matches(const Config& c) const {
  if (int64_t(wkv.size()) != c.n_layer) return false;
  for (int64_t l = 0; l < c.n_layer; ++l)
    if (att_shift[size_t(l)].shape() != Shape{c.n_embd} || ffn_shift[size_t(l)].shape() != Shape{c.n_embd} ||
        wkv[size_t(l)].shape() != Shape{c.n_head, kHeadSize, kHeadSize})
      return false;
  return true;
}

int64_t State::bytes() const {
  int64_t n = 0;
  for (auto* v : {&att_shift, &wkv, &ffn_shift})
    for (auto& t : *v) n += int64_t(t.nbytes());
  return n;
}

void save_state(const std::string& path, const State& s, const Config& c, uint64_t fingerprint) {
  GANDER_CHECK(s.matches(c), path, ": state does not match the model ", c.describe());
  io::NamedTensors ts;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    ts.emplace_back(concat("blocks.", l, ".att_shift"), s.att_shift[size_t(l)]);
    ts.emplace_back(concat("blocks.", l, ".wkv"), s.wkv[size_t(l)]);
    ts.emplace_back(concat("blocks.", l, ".ffn_shift"), s.ffn_shift[size_t(l)]);
  }
  io::save_safetensors(path, ts, state_file_metadata(kStateFileKind, c.describe(), fingerprint));
}

State load_state(const std::string& path, const Config& c, uint64_t fingerprint) {
  return state_from_checkpoint(io::load_checkpoint(path), c, fingerprint);
}

State state_from_checkpoint(const io::Checkpoint& ck, const Config& c, uint64_t fingerprint) {
  const std::string& path = ck.source();
  check_state_file(ck, kStateFileKind, c.describe(), fingerprint);
  State s = State::zeros(c);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    auto take = [&](const std::string& name, Tensor& dst) {
      const Tensor& t = ck.get(name);
      check_shape(t, dst.shape(), path + ": tensor '" + name + "'");
      GANDER_CHECK(t.dtype() == DType::F32, path, ": tensor '", name, "' is ", dtype_name(t.dtype()), ", expected f32");
      dst.copy_from(t);
    };
    take(concat("blocks.", l, ".att_shift"), s.att_shift[size_t(l)]);
    take(concat("blocks.", l, ".wkv"), s.wkv[size_t(l)]);
    take(concat("blocks.", l, ".ffn_shift"), s.ffn_shift[size_t(l)]);
  }
  GANDER_CHECK(int64_t(ck.size()) == 3 * c.n_layer, path, ": state file holds ", ck.size(), " tensors, expected ",
               3 * c.n_layer);
  return s;
}

State load_time_state(const std::string& path, const Config& c, bool key_major) {
  const io::Checkpoint ck = io::load_checkpoint(path);
  State s = State::zeros(c);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string name = concat("blocks.", l, ".att.time_state");
    const Tensor& t = ck.get(name);
    check_shape(t, {c.n_head, kHeadSize, kHeadSize}, path + ": tensor '" + name + "'");
    const std::vector<float> v = t.to_f32_vector();
    if (!key_major) {
      s.wkv[size_t(l)].copy_from(t);
      continue;
    }
    float* d = s.wkv[size_t(l)].data<float>();
    for (int64_t h = 0; h < c.n_head; ++h)
      for (int64_t i = 0; i < kHeadSize; ++i)
        for (int64_t j = 0; j < kHeadSize; ++j)
          d[(h * kHeadSize + i) * kHeadSize + j] = v[size_t((h * kHeadSize + j) * kHeadSize + i)];
  }
  return s;
}

}  // namespace gander::rwkv7
