// Typed access to a parsed JSON file whose every error names the file and the field:
//   tok.json: field 'added_tokens[3].content' must be a string, got 5
// nlohmann's own accessors throw json exceptions without either (or, for a missing key in a const
// object, are undefined behaviour), so the tokenizer loaders read JSON only through this class.
// A field refers to its parent and builds its path only when an error needs it: walking the
// 150k entries of a vocabulary costs no strings.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gander {

class JsonField {
 public:
  // The whole document (`source` names it in errors and must outlive every field).
  JsonField(const nlohmann::json& root, const std::string& source) : v_(&root), source_(&source) {}

  bool present() const { return v_ != nullptr; }
  bool is_null() const { return !v_ || v_->is_null(); }  // absent or null
  bool is_string() const { return v_ && v_->is_string(); }

  // A member of this object; an absent key gives an absent field (which accessors report as missing).
  // A child points to its parent, so the parent must be a named field that outlives it: indexing a
  // temporary (`f["a"]["b"]`) would leave the child dangling and does not compile.
  JsonField operator[](std::string_view key) const&;
  JsonField operator[](std::string_view key) const&& = delete;
  // An element of this array.
  JsonField operator[](size_t index) const&;
  JsonField operator[](size_t index) const&& = delete;
  // Calls fn(key, member) for each member of this object, in the file's key order.
  template <typename Fn>
  void for_each_member(Fn&& fn) const {
    const nlohmann::json& o = object();
    for (auto it = o.begin(); it != o.end(); ++it) fn(it.key(), JsonField(&it.value(), source_, this, it.key(), false, 0));
  }

  // Each checks the JSON type first and fails with the field's name and the value it found.
  const nlohmann::json& object() const;
  const nlohmann::json& array() const;
  const std::string& string() const;
  int64_t integer() const;
  double number() const;
  bool boolean() const;
  bool boolean_or(bool fallback) const { return is_null() ? fallback : boolean(); }
  std::string string_or(const std::string& fallback) const { return is_null() ? fallback : string(); }

  // "<source>: field '<path>'", the start of every message about this field.
  std::string where() const;
  // Throws gander::Error "<source>: field '<path>' <parts...>".
  template <typename... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    ::gander::fail(where(), " ", parts...);
  }

 private:
  JsonField(const nlohmann::json* v, const std::string* source, const JsonField* parent, std::string_view key,
            bool element, size_t index)
      : v_(v), source_(source), parent_(parent), key_(key), element_(element), index_(index) {}
  const nlohmann::json& value(const char* expected) const;
  void append_path(std::string& out) const;

  const nlohmann::json* v_;  // null: the key is absent
  const std::string* source_;
  const JsonField* parent_ = nullptr;  // null: the document itself
  std::string_view key_;               // the member name (when !element_)
  bool element_ = false;               // an array element: index_ names it
  size_t index_ = 0;
};

// A short description of a JSON value for error messages: scalars as written (long strings cut),
// arrays and objects by kind only (dumping them could be huge or recurse deeply).
std::string describe_json(const nlohmann::json& v);

}  // namespace gander
