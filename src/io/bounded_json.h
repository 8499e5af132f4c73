// JSON from untrusted files, parsed with what a plain nlohmann DOM parse lacks: a key given twice
// in one object is an error (nlohmann keeps the last one silently), nesting stops at
// kMaxJsonDepth, and every value is charged to a MemoryBudget before it is stored (a 59 MB
// safetensors header of a million empty tensors took 925 MB as a plain DOM; a config.json of
// nested brackets as much). Built through nlohmann's SAX interface.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "io/memory_budget.h"

namespace gander::io {

inline constexpr size_t kMaxJsonDepth = 16;
inline constexpr uint64_t kJsonObjectMember = 160;  // heap bytes of one object member: map node, key, value

// Throws "<source>: <what> is not valid JSON (error at byte N)", "... gives the key 'k' twice",
// "... nests deeper than 16 levels" or the budget's error.
nlohmann::json parse_bounded_json(std::string_view text, const std::string& source, const char* what,
                                  MemoryBudget& budget);

}  // namespace gander::io
