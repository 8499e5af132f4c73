#include "models/state_file.h"

#include <algorithm>
#include <charconv>

#include "core/error.h"
#include "io/safetensors.h"
#include "models/fingerprint.h"

namespace gander {

std::map<std::string, std::string> state_file_metadata(const StateFileKind& kind, const std::string& model_shape,
                                                       uint64_t fingerprint) {
  return {{"format", kind.format},
          {"version", std::to_string(kind.version)},
          {"model", model_shape},
          {"fingerprint", Fingerprint::hex(fingerprint)}};
}

const std::string& state_file_field(const io::Checkpoint& ck, const StateFileKind& kind, const std::string& key) {
  const auto it = ck.metadata().find(key);
  GANDER_CHECK(it != ck.metadata().end(), ck.source(), ": not a gander ", kind.what, " file (no '", key, "' metadata)");
  return it->second;
}

void check_state_file(const io::Checkpoint& ck, const StateFileKind& kind, const std::string& model_shape,
                      uint64_t fingerprint) {
  const std::string& path = ck.source();
  auto field = [&](const char* key) -> const std::string& { return state_file_field(ck, kind, key); };
  GANDER_CHECK(field("format") == kind.format, path, ": not a gander ", kind.what, " file (format '", field("format"),
               "')");
  GANDER_CHECK(field("version") == std::to_string(kind.version), path, ": ", kind.what, " format version ",
               field("version"), " is not supported (this build reads version ", kind.version, ")");
  GANDER_CHECK(field("model") == model_shape, path, ": ", kind.what, " belongs to a model of shape ", field("model"),
               ", not ", model_shape);
  GANDER_CHECK(field("fingerprint") == Fingerprint::hex(fingerprint), path, ": ", kind.what,
               " belongs to another model of the same shape (weight fingerprint ", field("fingerprint"),
               ", this model's is ", Fingerprint::hex(fingerprint), ")");
}


void save_sequence_state(const std::string& path, const models::SequenceState& s, const StateOwner& owner) {
  const models::StateLayout& layout = s.layout();
  io::NamedTensors ts;
  const auto& es = layout.entries();
  for (size_t i = 0; i < es.size(); ++i) {
    if (!es[i].grows) ts.emplace_back(es[i].name, s.at(i));
    else if (s.length() > 0) ts.emplace_back(es[i].name, s.at(i).rows(0, s.length()));
  }
  auto meta = state_file_metadata(owner.kind, owner.model_shape, owner.fingerprint);
  if (layout.uses_positions()) meta["length"] = std::to_string(s.length());
  io::save_safetensors(path, ts, meta);
}

models::SequenceState sequence_state_from_checkpoint(const io::Checkpoint& ck,
                                                     const std::shared_ptr<const models::StateLayout>& layout,
                                                     const StateOwner& owner) {
  const std::string& path = ck.source();
  check_state_file(ck, owner.kind, owner.model_shape, owner.fingerprint);
  int64_t len = 0;
  if (layout->uses_positions()) {
    const std::string& text = state_file_field(ck, owner.kind, "length");
    len = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), len);
    const int64_t most = owner.max_length > 0 ? owner.max_length : int64_t(1) << 40;
    GANDER_CHECK(ec == std::errc() && end == text.data() + text.size() && len >= 0 && len <= most, path,
                 ": metadata 'length' must be a whole number in [0, ", most, "]",
                 owner.max_length > 0 ? " (max_position_embeddings)" : "", ", got '", text, "'");
  }
  const auto& es = layout->entries();
  size_t expected = 0;
  for (const models::StateEntry& e : es) expected += !e.grows || len > 0;
  for (const std::string& name : ck.names()) {
    const bool known = std::any_of(es.begin(), es.end(),
                                   [&](const models::StateEntry& e) { return e.name == name && (!e.grows || len > 0); });
    GANDER_CHECK(known, path, ": unexpected tensor '", name, "' (a ", owner.kind.what, " of ", len,
                 " positions holds ", expected, " tensors, such as '", es.empty() ? "" : es[0].name, "')");
  }
  // Every tensor is checked before the state is sized by `length`: a 300-byte file claiming a
  // long cache must not reserve hundreds of MB first.
  for (const models::StateEntry& e : es) {
    if (e.grows && len == 0) continue;
    const Tensor& t = ck.get(e.name);
    Shape want = e.shape;
    if (e.grows) want.insert(want.begin(), len);
    check_shape(t, want, path + ": tensor '" + e.name + "'");
    GANDER_CHECK(t.dtype() == DType::F32, path, ": tensor '", e.name, "' is ", dtype_name(t.dtype()), ", expected f32");
  }
  models::SequenceState s(layout);
  s.reserve(len);
  for (size_t i = 0; i < es.size(); ++i) {
    if (!es[i].grows) s.at(i).copy_from(ck.get(es[i].name));
    else if (len > 0) s.at(i).rows(0, len).copy_from(ck.get(es[i].name));
  }
  s.set_length(len);
  return s;
}

models::SequenceState load_sequence_state(const std::string& path,
                                          const std::shared_ptr<const models::StateLayout>& layout,
                                          const StateOwner& owner) {
  return sequence_state_from_checkpoint(io::load_checkpoint(path), layout, owner);
}

}  // namespace gander
