#include "models/qwen2/kv_cache.h"

#include <algorithm>
#include <charconv>

#include "io/safetensors.h"
#include "models/state_file.h"

namespace gander::qwen2 {

namespace {
const StateFileKind kKvFileKind{"gander-qwen2-kv", kKvCacheFormatVersion, "Qwen2 KV-cache"};
}  // namespace

KvCache KvCache::empty(const Config& c) {
  KvCache kv;
  kv.k.resize(size_t(c.n_layer));
  kv.v.resize(size_t(c.n_layer));
  return kv;
}

void KvCache::reserve(const Config& c, int64_t positions) {
  const int64_t have = k.empty() || !k[0].defined() ? 0 : k[0].dim(0);
  if (positions <= have) return;
  const int64_t cap = std::max(positions, 2 * have);
  for (size_t l = 0; l < k.size(); ++l)
    for (Tensor* t : {&k[l], &v[l]}) {
      Tensor grown = Tensor::empty(DType::F32, {cap, c.n_kv_head, c.head_dim});
      if (t->defined() && length > 0) grown.rows(0, length).copy_from(t->rows(0, length));
      *t = grown;
    }
}

KvCache KvCache::clone() const {
  KvCache kv;
  kv.length = length;
  for (size_t l = 0; l < k.size(); ++l) {
    kv.k.push_back(k[l].defined() ? k[l].clone() : Tensor());
    kv.v.push_back(v[l].defined() ? v[l].clone() : Tensor());
  }
  return kv;
}

int64_t KvCache::bytes() const {
  int64_t n = 0;
  for (size_t l = 0; l < k.size(); ++l) n += int64_t(k[l].defined() ? k[l].nbytes() + v[l].nbytes() : 0);
  return n;
}

void save_cache(const std::string& path, const KvCache& cache, const Config& c, uint64_t fingerprint) {
  io::NamedTensors ts;
  for (int64_t l = 0; l < c.n_layer && cache.length > 0; ++l) {
    ts.emplace_back(concat("layers.", l, ".k"), cache.k[size_t(l)].rows(0, cache.length));
    ts.emplace_back(concat("layers.", l, ".v"), cache.v[size_t(l)].rows(0, cache.length));
  }
  auto meta = state_file_metadata(kKvFileKind, c.describe(), fingerprint);
  meta["length"] = std::to_string(cache.length);
  io::save_safetensors(path, ts, meta);
}

KvCache load_cache(const std::string& path, const Config& c, uint64_t fingerprint) {
  return cache_from_checkpoint(io::load_checkpoint(path), c, fingerprint);
}

KvCache cache_from_checkpoint(const io::Checkpoint& ck, const Config& c, uint64_t fingerprint) {
  const std::string& path = ck.source();
  check_state_file(ck, kKvFileKind, c.describe(), fingerprint);
  const std::string& text = state_file_field(ck, kKvFileKind, "length");
  int64_t len = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), len);
  GANDER_CHECK(ec == std::errc() && end == text.data() + text.size() && len >= 0 && len <= c.max_positions, path,
               ": metadata 'length' must be a whole number in [0, ", c.max_positions,
               "] (max_position_embeddings), got '", text, "'");
  const int64_t expected = len > 0 ? 2 * c.n_layer : 0;
  for (const std::string& name : ck.names()) {
    bool known = false;
    for (int64_t l = 0; l < c.n_layer && len > 0 && !known; ++l)
      known = name == concat("layers.", l, ".k") || name == concat("layers.", l, ".v");
    GANDER_CHECK(known, path, ": unexpected tensor '", name, "' (a cache of ", len, " positions holds ", expected,
                 " tensors layers.{l}.k/v)");
  }
  // Every tensor is checked before the cache is sized by `length`: a 300-byte file claiming a
  // long cache must not reserve hundreds of MB first.
  for (int64_t l = 0; l < c.n_layer && len > 0; ++l)
    for (const char* part : {"k", "v"}) {
      const std::string name = concat("layers.", l, ".", part);
      const Tensor& t = ck.get(name);
      check_shape(t, {len, c.n_kv_head, c.head_dim}, path + ": tensor '" + name + "'");
      GANDER_CHECK(t.dtype() == DType::F32, path, ": tensor '", name, "' is ", dtype_name(t.dtype()), ", expected f32");
    }
  KvCache kv = KvCache::empty(c);
  kv.reserve(c, std::max<int64_t>(len, 1));
  for (int64_t l = 0; l < c.n_layer && len > 0; ++l) {
    kv.k[size_t(l)].rows(0, len).copy_from(ck.get(concat("layers.", l, ".k")));
    kv.v[size_t(l)].rows(0, len).copy_from(ck.get(concat("layers.", l, ".v")));
  }
  kv.length = len;
  return kv;
}

}  // namespace gander::qwen2
