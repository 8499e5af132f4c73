// Reading Hugging Face config.json files with errors that name the file and the field.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gander::io {

// A JSON value for an error message: short scalars as written, containers by kind (never dumped:
// a hostile file nests them deep enough to exhaust the stack).
std::string describe_json(const nlohmann::json& v);

class JsonConfig {
 public:
  static JsonConfig load(const std::string& path);  // a regular file of at most 64 MiB
  static JsonConfig parse(std::string_view text, const std::string& source);
  JsonConfig(nlohmann::json j, std::string source) : j_(std::move(j)), source_(std::move(source)) {}

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }
  int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  int64_t get_int_or(const std::string& key, int64_t fallback) const { return has(key) ? get_int(key) : fallback; }
  double get_double_or(const std::string& key, double fallback) const { return has(key) ? get_double(key) : fallback; }
  bool get_bool_or(const std::string& key, bool fallback) const { return has(key) ? get_bool(key) : fallback; }
  // A nested object as its own config ("rope_parameters").
  std::optional<JsonConfig> child(const std::string& key) const;
  const nlohmann::json& json() const { return j_; }
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json& field(const std::string& key) const;
  nlohmann::json j_;
  std::string source_;
};

}  // namespace gander::io
