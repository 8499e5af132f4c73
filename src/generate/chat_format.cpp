#include "generate/chat_format.h"

#include <filesystem>

#include "core/error.h"
#include "io/hf_config.h"

namespace gander {

std::string clean_chat_message(const std::string& text) {
  std::string s;
  for (size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) s += text[i];
  std::string out;
  for (char c : s) {
    if (c == '\n' && !out.empty() && out.back() == '\n') continue;
    out += c;
  }
  const size_t b = out.find_first_not_of(" \t\n"), e = out.find_last_not_of(" \t\n");
  return b == std::string::npos ? std::string() : out.substr(b, e - b + 1);
}

std::string rwkv_user_turn(const std::string& msg) { return "User: " + msg + "\n\nAssistant:"; }

std::string rwkv_system_block(const std::string& system) { return "System: " + clean_chat_message(system) + "\n\n"; }

ChatFormat ChatFormat::rwkv() {
  ChatFormat f;
  f.kind = Kind::Rwkv;
  f.stop_strings = {"\n\n"};
  return f;
}

ChatFormat ChatFormat::chatml() {
  ChatFormat f;
  f.kind = Kind::ChatML;
  f.stop_tokens = {"<|im_end|>", "<|endoftext|>"};
  return f;
}

std::string ChatFormat::system(const std::string& text) const {
  if (kind == Kind::Rwkv) return rwkv_system_block(text);
  return "<|im_start|>system\n" + text + "<|im_end|>\n";
}

std::string ChatFormat::user_turn(const std::string& msg) const {
  if (kind == Kind::Rwkv) return rwkv_user_turn(msg);
  return "<|im_start|>user\n" + msg + "<|im_end|>\n<|im_start|>assistant\n";
}

std::string ChatFormat::after_reply(const std::string& stop_string) const {
  if (kind == Kind::Rwkv) return stop_string == "\n\n" ? "" : "\n\n";  // the model wrote the separator itself
  return "<|im_end|>\n";  // the stop token itself was not fed
}

ChatFormat ChatFormat::for_model(const std::string& builtin, const std::string& folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path cfg = fs::path(folder) / "tokenizer_config.json";
  if (!folder.empty() && fs::is_directory(folder, ec) && fs::is_regular_file(cfg, ec)) {
    const io::JsonConfig j = io::JsonConfig::load(cfg.string());
    if (j.has("chat_template") && j.json()["chat_template"].is_string()) {
      const std::string t = j.get_string("chat_template");
      auto has = [&t](const char* s) { return t.find(s) != std::string::npos; };
      if (has("<|im_start|>") && has("<|im_end|>")) return chatml();
      if (has("User: ") && has("Assistant:")) return rwkv();
      fail(cfg.string(), ": field 'chat_template' is neither ChatML (<|im_start|>role ... <|im_end|>) nor the RWKV "
                         "'User: ... Assistant:' form; not supported");
    }
  }
  if (builtin == "chatml") return chatml();
  GANDER_CHECK(builtin == "rwkv", "chat format: unknown built-in format '", builtin, "'");
  return rwkv();
}

}  // namespace gander
