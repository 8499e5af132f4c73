#include "io/hf_config.h"

#include <fstream>

#include "core/error.h"

namespace gander::io {

JsonConfig JsonConfig::load(const std::string& path) {
  std::ifstream f(path);
  GANDER_CHECK(f, path, ": cannot open");
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  GANDER_CHECK(!j.is_discarded(), path, ": not valid JSON");
  GANDER_CHECK(j.is_object(), path, ": top level is not a JSON object");
  return JsonConfig(std::move(j), path);
}

const nlohmann::json& JsonConfig::field(const std::string& key) const {
  GANDER_CHECK(has(key), source_, ": missing field '", key, "'");
  return j_[key];
}

int64_t JsonConfig::get_int(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_number_integer(), source_, ": field '", key, "' must be an integer, got ", v.dump());
  return v.get<int64_t>();
}

double JsonConfig::get_double(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_number(), source_, ": field '", key, "' must be a number, got ", v.dump());
  return v.get<double>();
}

bool JsonConfig::get_bool(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_boolean(), source_, ": field '", key, "' must be true or false, got ", v.dump());
  return v.get<bool>();
}

std::string JsonConfig::get_string(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_string(), source_, ": field '", key, "' must be a string, got ", v.dump());
  return v.get<std::string>();
}

std::optional<JsonConfig> JsonConfig::child(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = j_[key];
  GANDER_CHECK(v.is_object(), source_, ": field '", key, "' must be an object");
  return JsonConfig(v, source_ + " (" + key + ")");
}

}  // namespace gander::io
