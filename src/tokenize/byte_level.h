// GPT-2's byte-level alphabet, in which tokenizer.json files of byte-level BPE write their tokens:
// a reversible map from each byte to a printable code point (bytes that print stand for
// themselves, the others take code points from 256 up).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gander {

std::vector<uint32_t> byte_to_codepoint();        // [256]
std::string byte_level_encode(std::string_view raw);  // raw bytes -> their byte-level (UTF-8) text

}  // namespace gander
