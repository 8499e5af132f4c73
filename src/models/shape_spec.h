// The "L12,D768,V65536" shape strings of --random models, parsed strictly: every number whole,
// positive and at most kMaxShapeValue (a typo such as V1e9 or a wrapped size is an error, never
// a different model).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gander {

inline constexpr int64_t kMaxShapeValue = int64_t(1) << 24;

// Items as (key, value); an item without digits (a flag such as "T") has value 0.
std::vector<std::pair<std::string, int64_t>> parse_shape_items(const std::string& spec);

}  // namespace gander
