// gander chat: an interactive conversation in the official "User: ...\n\nAssistant:" format. The
// conversation lives in the recurrent state, so earlier turns are never re-processed.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "cli/sampling_args.h"
#include "generate/chat_format.h"
#include "generate/generator.h"
#include "models/rwkv7/state.h"
#include "tokenize/tokenizer.h"

namespace gander::cli {

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat interactively (/save FILE, /load FILE, /reset, /quit)");
  auto margs = std::make_shared<ModelArgs>();
  auto sp = std::make_shared<SamplingParams>(SamplingParams::chat_defaults());
  auto tokenizer = std::make_shared<std::string>();
  auto n = std::make_shared<int64_t>(500);
  auto system = std::make_shared<std::string>();
  auto state_in = std::make_shared<std::string>();
  auto time_state = std::make_shared<std::string>();
  margs->add_to(cmd);
  add_sampling_options(cmd, *sp);
  cmd->add_option("--tokenizer", *tokenizer, "Vocabulary file (rwkv_vocab_v20230424.txt)")->required();
  cmd->add_option("-n,--max-tokens", *n, "Longest reply in tokens")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--system", *system, "A system prompt placed before the conversation");
  cmd->add_option("--state-in", *state_in, "Start from a saved state");
  cmd->add_option("--time-state", *time_state, "Start from a state-tuned initial state (blocks.N.att.time_state)");
  cmd->callback([=] {
    auto model = margs->load();
    const auto tok = load_tokenizer(*tokenizer);
    GANDER_CHECK(tok->vocab_size() <= model->config().vocab, *tokenizer, ": tokenizer has ", tok->vocab_size(),
                 " tokens but the model's vocabulary holds only ", model->config().vocab);
    const bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    GANDER_CHECK(state_in->empty() || time_state->empty(), "give --state-in or --time-state, not both");
    rwkv7::State state = !state_in->empty()   ? rwkv7::load_state(*state_in, model->config(), model->fingerprint())
                         : !time_state->empty() ? rwkv7::load_time_state(*time_state, model->config())
                                                : rwkv7::State::zeros(model->config());
    const rwkv7::State initial = state.clone();  // /reset returns here (a tuned state, or zeros)
    Sampler sampler(*sp, model->config().vocab);
    Tensor logits;
    auto feed = [&](std::span<const int32_t> t, Tensor& out) { model->forward(t, state, out); };
    if (!system->empty()) {
      const std::vector<int32_t> ids = tok->encode(rwkv_system_block(*system));
      feed(ids, logits);
    }
    if (tty) std::printf("gander chat: %s. Commands: /save FILE, /load FILE, /reset, /quit\n", model->config().describe().c_str());
    std::string line;
    while (true) {
      if (tty) std::printf("\nUser: "), std::fflush(stdout);
      if (!std::getline(std::cin, line)) break;
      if (line == "/quit" || line == "/exit") break;
      if (line == "/reset") {
        state = initial.clone();
        sampler.reset_penalties();
        std::printf("[state reset]\n");
        continue;
      }
      if (line.starts_with("/save ") || line.starts_with("/load ")) {
        const std::string file = line.substr(6);
        try {
          if (line[1] == 's') {
            rwkv7::save_state(file, state, model->config(), model->fingerprint());
            std::printf("[state saved to %s]\n", file.c_str());
          } else {
            state = rwkv7::load_state(file, model->config(), model->fingerprint());
            std::printf("[state loaded from %s]\n", file.c_str());
          }
        } catch (const Error& e) {
          std::printf("[error: %s]\n", e.what());
        }
        continue;
      }
      const std::string msg = clean_chat_message(line);
      if (msg.empty()) continue;
      const std::vector<int32_t> ids = tok->encode(rwkv_user_turn(msg));
      std::printf("Assistant:");
      std::fflush(stdout);
      GenerateOptions opt;
      opt.max_tokens = *n;
      opt.stop_tokens = {0};
      opt.stop_strings = {"\n\n"};
      const GenerateStats st = generate(feed, *tok, ids, logits, sampler, opt, [](const std::string& s) {
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fflush(stdout);
      });
      std::printf("\n");
      // Keep the conversation well-formed when a reply ended without its blank line.
      if (st.stop_reason != "stop string") feed(tok->encode("\n\n"), logits);
      std::fflush(stdout);
    }
  });
}

}  // namespace gander::cli
