// NFC normalisation (utf8proc) that skips what is already normalised. Every code point below
// U+0300 is unchanged by NFC and is never the second half of a composition, so text whose bytes
// are all below 0xCC (the UTF-8 lead byte of U+0300) is its own NFC, and a boundary before an ASCII
// character never moves. Only the stretches of non-ASCII text that hold a byte >= 0xCC, with the
// ASCII character before them (a base letter that a combining mark may join), go through utf8proc.
#pragma once
#include <string>
#include <string_view>

namespace gander {

// The NFC form of `text` (valid UTF-8): `text` itself when nothing changes, else a view of `storage`.
std::string_view to_nfc(std::string_view text, std::string& storage);

}  // namespace gander
