#include "tokenize/json_field.h"

namespace gander {

namespace {
using json = nlohmann::json;

// Keys made of these characters are written `a.b`; any other key `a["..."]`.
bool plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// JSON-quotes at most `max_bytes` of s (never cutting a UTF-8 character), with "..." if cut.
std::string quote_cut(std::string_view s, size_t max_bytes) {
  size_t n = std::min(s.size(), max_bytes);
  while (n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  // replace: a string cut by a caller elsewhere must still print rather than throw.
  std::string out = json(std::string(s.substr(0, n))).dump(-1, ' ', false, json::error_handler_t::replace);
  if (n < s.size()) out += "...";
  return out;
}
}  // namespace

std::string describe_json(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return v.dump();
    case json::value_t::string: return quote_cut(v.get_ref<const std::string&>(), 40);
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a binary value";
  }
}

void JsonField::append_path(std::string& out) const {
  if (!parent_) return;
  parent_->append_path(out);
  if (element_) {
    out.append("[").append(std::to_string(index_)).append("]");
  } else if (plain_key(key_)) {
    if (!out.empty()) out += '.';
    out += key_;
  } else {
    out.append("[").append(quote_cut(key_, 40)).append("]");
  }
}

std::string JsonField::where() const {
  std::string path;
  append_path(path);
  if (path.empty()) return concat(*source_, ": the top level");
  return concat(*source_, ": field '", path, "'");
}

JsonField JsonField::operator[](std::string_view key) const& {
  const json& o = object();
  const auto it = o.find(key);
  return JsonField(it == o.end() ? nullptr : &*it, source_, this, key, false, 0);
}

JsonField JsonField::operator[](size_t index) const& {
  const json& a = array();
  if (index >= a.size()) fail("has ", a.size(), " elements, so there is no element ", index);
  return JsonField(&a[index], source_, this, {}, true, index);
}

const json& JsonField::value(const char* expected) const {
  if (!v_) fail("is missing (expected ", expected, ")");
  return *v_;
}

const json& JsonField::object() const {
  const json& v = value("an object");
  if (!v.is_object()) fail("must be an object, got ", describe_json(v));
  return v;
}

const json& JsonField::array() const {
  const json& v = value("an array");
  if (!v.is_array()) fail("must be an array, got ", describe_json(v));
  return v;
}

const std::string& JsonField::string() const {
  const json& v = value("a string");
  if (!v.is_string()) fail("must be a string, got ", describe_json(v));
  return v.get_ref<const std::string&>();
}

int64_t JsonField::integer() const {
  const json& v = value("an integer");
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(INT64_MAX)) fail("is out of range, got ", describe_json(v));
    return int64_t(u);
  }
  if (!v.is_number_integer()) fail("must be an integer, got ", describe_json(v));
  return v.get<int64_t>();
}

double JsonField::number() const {
  const json& v = value("a number");
  if (!v.is_number()) fail("must be a number, got ", describe_json(v));
  return v.get<double>();
}

bool JsonField::boolean() const {
  const json& v = value("true or false");
  if (!v.is_boolean()) fail("must be true or false, got ", describe_json(v));
  return v.get<bool>();
}

}  // namespace gander
