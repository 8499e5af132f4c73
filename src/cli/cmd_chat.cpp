// gander chat: an interactive conversation. RWKV-7 models use the official "User: ...\n\nAssistant:"
// format and keep the conversation in the recurrent state; Qwen2 models use ChatML and keep it in
// the KV cache. Either way earlier turns are never re-processed.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "cli/sampling_args.h"
#include "cli/tokenizer_args.h"
#include "generate/chat_format.h"
#include "generate/generator.h"
#include "io/hf_config.h"

namespace gander::cli {

namespace {
// gander speaks ChatML to Qwen2 models; refuse a folder whose template says otherwise rather than
// chat in a format the model was not trained on.
void check_chatml_template(const std::string& folder) {
  const auto cfg = std::filesystem::path(folder) / "tokenizer_config.json";
  if (folder.empty() || !std::filesystem::exists(cfg)) return;
  const io::JsonConfig j = io::JsonConfig::load(cfg.string());
  if (!j.has("chat_template") || !j.json()["chat_template"].is_string()) return;
  const std::string t = j.get_string("chat_template");
  GANDER_CHECK(t.find("<|im_start|>") != std::string::npos && t.find("<|im_end|>") != std::string::npos, cfg.string(),
               ": field 'chat_template' is not a ChatML template (<|im_start|>role ... <|im_end|>); not supported");
}
}  // namespace

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat interactively (/save FILE, /load FILE, /reset, /quit)");
  auto margs = std::make_shared<ModelArgs>();
  auto sp = std::make_shared<SamplingParams>(SamplingParams::chat_defaults());
  auto tokenizer = std::make_shared<std::string>();
  auto n = std::make_shared<int64_t>(500);
  auto system = std::make_shared<std::string>();
  auto state_in = std::make_shared<std::string>();
  margs->add_to(cmd);
  add_sampling_options(cmd, *sp);
  cmd->add_option("--tokenizer", *tokenizer, "Tokenizer (default: the model folder's tokenizer.json)");
  cmd->add_option("-n,--max-tokens", *n, "Longest reply in tokens")->capture_default_str()->check(at_least(1));
  cmd->add_option("--system", *system, "A system prompt placed before the conversation");
  cmd->add_option("--state-in", *state_in, "Start from a saved state");
  cmd->callback([=] {
    auto model = margs->load();
    const auto tok = load_tokenizer_for(*tokenizer, *margs, *model);
    const ChatFormat format = model->architecture() == "rwkv7" ? ChatFormat::rwkv() : ChatFormat::chatml();
    if (format.kind == ChatFormat::Kind::ChatML) check_chatml_template(margs->path);
    SamplingParams params = *sp;
    if (format.kind == ChatFormat::Kind::ChatML) params.banned.clear();  // token 0 is an ordinary token there
    const bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (!state_in->empty()) model->load_state(*state_in);
    Sampler sampler(params, model->vocab());
    sampler.restrict_to(tok->vocab_size());
    GenerateOptions opt;
    opt.max_tokens = *n;
    opt.stop_tokens = tok->end_of_text();
    for (const std::string& s : format.stop_tokens)
      if (int32_t id = tok->special_id(s); id >= 0) opt.stop_tokens.push_back(id);
    opt.stop_strings = format.stop_strings;
    Tensor logits;
    auto feed = [&](std::span<const int32_t> t, Tensor& out) { model->feed(t, out); };
    if (!system->empty()) feed(tok->encode(format.system(*system)), logits);
    if (tty) std::printf("gander chat: %s %s. Commands: /save FILE, /load FILE, /reset, /quit\n",
                         model->architecture().c_str(), model->describe().c_str());
    std::string line;
    while (true) {
      if (tty) std::printf("\nUser: "), std::fflush(stdout);
      if (!std::getline(std::cin, line)) break;
      if (line == "/quit" || line == "/exit") break;
      if (line == "/reset") {
        model->reset();
        sampler.reset_penalties();
        std::printf("[state reset]\n");
        continue;
      }
      if (line.starts_with("/save ") || line.starts_with("/load ")) {
        const std::string file = line.substr(6);
        try {
          if (line[1] == 's') {
            model->save_state(file);
            std::printf("[state saved to %s]\n", file.c_str());
          } else {
            model->load_state(file);
            std::printf("[state loaded from %s]\n", file.c_str());
          }
        } catch (const Error& e) {
          std::printf("[error: %s]\n", e.what());
        }
        continue;
      }
      const std::string msg = clean_chat_message(line);
      if (msg.empty()) continue;
      std::printf("Assistant:");
      if (format.kind == ChatFormat::Kind::ChatML) std::printf(" ");
      std::fflush(stdout);
      const GenerateStats st = generate(feed, *tok, tok->encode(format.user_turn(msg)), logits, sampler, opt,
                                        [](const std::string& s) {
                                          std::fwrite(s.data(), 1, s.size(), stdout);
                                          std::fflush(stdout);
                                        });
      std::printf("\n");
      if (const std::string tail = format.after_reply(st.stop_reason == "stop string"); !tail.empty())
        feed(tok->encode(tail), logits);
      std::fflush(stdout);
    }
  });
}

}  // namespace gander::cli
