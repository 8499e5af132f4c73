#include "models/state_file.h"

#include "core/error.h"
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

}  // namespace gander
