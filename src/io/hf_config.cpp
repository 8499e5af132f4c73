#include "io/hf_config.h"

#include <cstdint>

#include "io/bounded_json.h"
#include "io/read_file.h"

#include "core/error.h"

namespace gander::io {

std::string describe_json(const nlohmann::json& v) {
  if (v.is_array()) return concat("an array of ", v.size());
  if (v.is_object()) return "an object";
  std::string text = v.dump();
  if (text.size() > 64) text = text.substr(0, 60) + "...";
  return text;
}

JsonConfig JsonConfig::load(const std::string& path) {
  // Configuration files are a few KB; 64 MiB leaves room for anything real.
  return parse(read_file(path, 64 * kMiB, "JSON file"), path);
}

JsonConfig JsonConfig::parse(std::string_view text, const std::string& path) {
  MemoryBudget budget(text.size(), path);
  nlohmann::json j = parse_bounded_json(text, path, "the file", budget);
  GANDER_CHECK(j.is_object(), path, ": top level is not a JSON object");
  return JsonConfig(std::move(j), path);
}

const nlohmann::json& JsonConfig::field(const std::string& key) const {
  GANDER_CHECK(has(key), source_, ": missing field '", key, "'");
  return j_[key];
}

int64_t JsonConfig::get_int(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_number_integer(), source_, ": field '", key, "' must be an integer, got ", describe_json(v));
  GANDER_CHECK(!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t(INT64_MAX), source_, ": field '", key,
               "' is out of range: ", describe_json(v));
  return v.get<int64_t>();
}

double JsonConfig::get_double(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_number(), source_, ": field '", key, "' must be a number, got ", describe_json(v));
  return v.get<double>();
}

bool JsonConfig::get_bool(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_boolean(), source_, ": field '", key, "' must be true or false, got ", describe_json(v));
  return v.get<bool>();
}

std::string JsonConfig::get_string(const std::string& key) const {
  const auto& v = field(key);
  GANDER_CHECK(v.is_string(), source_, ": field '", key, "' must be a string, got ", describe_json(v));
  return v.get<std::string>();
}

std::optional<JsonConfig> JsonConfig::child(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = j_[key];
  GANDER_CHECK(v.is_object(), source_, ": field '", key, "' must be an object");
  return JsonConfig(v, source_ + " (" + key + ")");
}

}  // namespace gander::io
