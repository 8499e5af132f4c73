// Prompt formats of the supported chat models: RWKV World / G1 (spec rwkv7.md §7.3) and ChatML
// (Qwen2 / Qwen2.5, as their tokenizer_config.json chat templates write it).
#pragma once
#include <string>
#include <vector>

namespace gander {

// CRLF -> LF, runs of blank lines collapsed to one newline ("\n\n" separates RWKV turns), trimmed.
std::string clean_chat_message(const std::string& text);
// "User: {msg}\n\nAssistant:" (earlier turns end in "\n\n", so turns join cleanly).
std::string rwkv_user_turn(const std::string& msg);
std::string rwkv_system_block(const std::string& system);  // "System: {text}\n\n"

struct ChatFormat {
  enum class Kind { Rwkv, ChatML } kind = Kind::Rwkv;
  std::vector<std::string> stop_strings;  // end a reply when they appear in the text
  std::vector<std::string> stop_tokens;   // special tokens that end a reply (ChatML: <|im_end|>, <|endoftext|>)

  static ChatFormat rwkv();
  static ChatFormat chatml();
  // The format a model chats in: its folder's tokenizer_config.json chat_template where it has one
  // (ChatML, or the RWKV "User: / Assistant:" form; any other template is refused rather than
  // chatting in a format the model was not trained on), else `builtin` ("rwkv" or "chatml", the
  // architecture's; see models::Architecture::chat_format).
  static ChatFormat for_model(const std::string& builtin, const std::string& model_folder);
  std::string system(const std::string& text) const;
  std::string user_turn(const std::string& msg) const;  // everything up to where the reply starts
  // Text fed after a reply so the next turn starts cleanly; `stop_string` is the stop string that
  // ended it ("" if none did: a stop token, the length limit, Ctrl-C).
  std::string after_reply(const std::string& stop_string) const;
};

}  // namespace gander
