#include "models/shape_spec.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/error.h"

namespace gander {

std::vector<std::pair<std::string, int64_t>> parse_shape_items(const std::string& spec) {
  std::vector<std::pair<std::string, int64_t>> items;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    const size_t digits = item.find_first_of("0123456789");
    if (digits == std::string::npos) {
      GANDER_CHECK(!item.empty(), "model shape '", spec, "': empty item");
      items.emplace_back(item, 0);
      continue;
    }
    const std::string key = item.substr(0, digits);
    GANDER_CHECK(!key.empty() && std::all_of(key.begin(), key.end(), [](char ch) { return std::isalpha(uint8_t(ch)); }),
                 "model shape '", spec, "': item '", item, "' must be a name and a number (L12, D768, ...)");
    int64_t v = 0;
    const char* first = item.data() + digits;
    const auto [last, ec] = std::from_chars(first, item.data() + item.size(), v);
    GANDER_CHECK(ec == std::errc() && last == item.data() + item.size() && v > 0 && v <= kMaxShapeValue, "model shape '",
                 spec, "': '", item, "' must be a name and a whole number from 1 to ", kMaxShapeValue);
    items.emplace_back(key, v);
  }
  return items;
}

}  // namespace gander
