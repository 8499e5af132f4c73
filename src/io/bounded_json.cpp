#include "io/bounded_json.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "io/checkpoint.h"

namespace gander::io {

using json = nlohmann::json;

namespace {
// nlohmann's lexer keeps every byte read since the start of the current string, number or literal
// (in a vector and, for strings and numbers, a second buffer, both growing by doubling): the
// longest stretch from one such token's start to the next bounds its memory.
uint64_t longest_lexer_span(std::string_view s) {
  uint64_t longest = 0;
  size_t start = 0, i = 0;
  auto token_starts = [&] {
    longest = std::max<uint64_t>(longest, i - start);
    start = i;
  };
  auto ends_word = [](char c) { return std::string_view(" \t\n\r,:[]{}\"").find(c) != std::string_view::npos; };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      token_starts();
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
      ++i;
    } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
      token_starts();
      while (i < s.size() && !ends_word(s[i])) ++i;
    } else {
      ++i;
    }
  }
  i = s.size();
  token_starts();
  return longest;
}

class BoundedJson final : public json::json_sax_t {
 public:
  // Upper estimates of the heap bytes of one value, beyond its share of a string's characters.
  static constexpr uint64_t kArraySlot = 3 * sizeof(json);  // a growing vector holds old + new block
  static constexpr uint64_t kObjectMember = kJsonObjectMember;
  static constexpr uint64_t kContainer = 64;                // the map or vector a value points to
  static constexpr uint64_t kString = 64;                   // the std::string a value points to

  static json parse(std::string_view text, const std::string& source, const char* what, MemoryBudget& budget) {
    budget.charge(5 * longest_lexer_span(text), "the JSON lexer's buffers");
    BoundedJson b(source, what, budget);
    json::sax_parse(text.begin(), text.end(), &b, json::input_format_t::json, /*strict=*/true);
    return std::move(b.root_);
  }

  bool null() override { return place(json(nullptr), 0); }
  bool boolean(bool v) override { return place(json(v), 0); }
  bool number_integer(json::number_integer_t v) override { return place(json(v), 0); }
  bool number_unsigned(json::number_unsigned_t v) override { return place(json(v), 0); }
  bool number_float(json::number_float_t v, const json::string_t&) override { return place(json(v), 0); }
  bool string(json::string_t& v) override {
    const uint64_t bytes = kString + v.size();
    return place(json(std::move(v)), bytes);
  }
  bool binary(json::binary_t&) override { fail(source_, ": ", what_, " holds binary data, which JSON text cannot"); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool key(json::string_t& k) override {
    GANDER_CHECK(!open_.back()->contains(k), source_, ": ", what_, " gives the key ", quote_name(k), " twice");
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    fail(source_, ": ", what_, " is not valid JSON (error at byte ", position, ")");
  }

 private:
  BoundedJson(const std::string& source, const char* what, MemoryBudget& budget)
      : source_(source), what_(what), budget_(budget) {}
  json* insert(json&& v, uint64_t bytes) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      budget_.charge(kArraySlot + bytes, what_);
      parent.push_back(std::move(v));
      return &parent.back();
    }
    budget_.charge(kObjectMember + key_.size() + bytes, what_);
    return &parent.emplace(std::move(key_), std::move(v)).first.value();
  }
  bool place(json&& v, uint64_t bytes) {
    insert(std::move(v), bytes);
    return true;
  }
  bool open(json&& container) {
    GANDER_CHECK(open_.size() < kMaxJsonDepth, source_, ": ", what_, " nests deeper than ", kMaxJsonDepth, " levels");
    // A parent gets no new member while this child is open, so the pointer stays valid.
    open_.push_back(insert(std::move(container), kContainer));
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  const std::string& source_;
  const char* what_;
  MemoryBudget& budget_;
  json root_;
  std::vector<json*> open_;  // the containers being filled, innermost last
  std::string key_;          // the key of the next member of the innermost object
};

}  // namespace

json parse_bounded_json(std::string_view text, const std::string& source, const char* what, MemoryBudget& budget) {
  return BoundedJson::parse(text, source, what, budget);
}

}  // namespace gander::io
