// Prompt formats of the RWKV World / G1 chat models (spec rwkv7.md §7.3).
#pragma once
#include <string>

namespace gander {
// CRLF -> LF, runs of blank lines collapsed to one newline ("\n\n" separates turns), trimmed.
std::string clean_chat_message(const std::string& text);
// "User: {msg}\n\nAssistant:" (earlier turns end in "\n\n", so turns join cleanly).
std::string rwkv_user_turn(const std::string& msg);
std::string rwkv_system_block(const std::string& system);  // "System: {text}\n\n"
}  // namespace gander
