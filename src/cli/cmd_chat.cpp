// gander chat: an interactive conversation. RWKV-7 models use the official "User: ...\n\nAssistant:"
// format and keep the conversation in the recurrent state; Qwen2 models use ChatML and keep it in
// the KV cache (earlier turns are never re-processed, until the context is full: then the oldest
// turns are dropped and the rest fed again). Ctrl-C stops a reply, which is kept (the model sees
// it, and the next turn starts cleanly after it); Ctrl-C or Ctrl-D at the prompt ends the chat.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/line_reader.h"
#include "cli/model_args.h"
#include "cli/progress.h"
#include "cli/sampling_args.h"
#include "cli/tokenizer_args.h"
#include "core/signals.h"
#include "generate/chat_format.h"
#include "generate/chat_history.h"
#include "generate/generator.h"
#include "io/atomic_file.h"
#include "models/registry.h"

namespace gander::cli {

namespace {
const char* kHelp =
    "Commands:\n"
    "  /help         this list\n"
    "  /retry        generate the last reply again (from the state before it)\n"
    "  /reset        forget the conversation (the system prompt stays)\n"
    "  /save FILE    save the state (the conversation so far) to FILE\n"
    "  /load FILE    continue from a saved state\n"
    "  /quit, /exit  end the chat (so do Ctrl-D and Ctrl-C at the prompt)\n"
    "Ctrl-C stops a reply (it is kept). End a line with \\ to continue the message on the next line;\n"
    "start a message with // to send a line that begins with /.";

// Everything one chat needs between turns.
struct Chat {
  Chat(Runner& m, const Tokenizer& t, const ChatFormat& f, Sampler& s) : model(m), tok(t), format(f), sampler(s) {}
  Runner& model;
  const Tokenizer& tok;
  const ChatFormat& format;
  Sampler& sampler;
  GenerateOptions opt;
  std::vector<int32_t> system_ids;
  ChatHistory history;
  Tensor logits;
  StdoutWriter out;
  // The point just before the last reply, for /retry.
  std::unique_ptr<Runner::Snapshot> retry_state;
  std::vector<int32_t> retry_turn;
  Tensor retry_logits;
  Sampler::Memory retry_memory;
  bool warned_full = false;

  void note(const std::string& text) { out.write("[" + text + "]\n"), out.flush(); }

  void feed(std::span<const int32_t> ids) {
    if (!ids.empty()) model.feed(ids, logits);
  }

  void reset() {
    model.reset();
    sampler.reset_penalties();
    history.clear();
    retry_state.reset();
    feed(system_ids);
  }

  // Makes room in a bounded context for `need` tokens; false when the message cannot be sent.
  bool make_room(int64_t need) {
    const int64_t limit = model.context_limit();
    if (limit == 0 || need <= model.context_room()) return true;
    const auto fit = history.fit(need, limit);
    if (!fit) {
      note(history.known() ? concat("message not sent: it needs ", need, " tokens with its reply, more than the ", limit,
                                    "-token context holds")
                           : concat("message not sent: the context is full (", limit - model.context_room(), " of ",
                                    limit, " tokens, from a loaded state); /reset to start over"));
      return false;
    }
    note(concat("context full: dropped the ", fit->dropped_turns, " oldest turn", fit->dropped_turns == 1 ? "" : "s",
                " to make room"));
    model.reset();
    retry_state.reset();
    feed(fit->replay);
    return true;
  }

  // One exchange: feeds the user's turn, then replies.
  void exchange(const std::string& msg, PrefillProgress& progress) {
    const std::vector<int32_t> turn = tok.encode(format.user_turn(msg));
    if (!make_room(int64_t(turn.size()) + std::min<int64_t>(opt.max_tokens, std::max<int64_t>(model.context_limit() / 4, 1))))
      return;
    const auto before = model.snapshot();
    const Sampler::Memory memory_before = sampler.memory();
    GenerateOptions prefill_opt = opt;
    prefill_opt.max_tokens = 0;  // only the prompt
    prefill_opt.on_prefill_progress = progress.callback();
    generate([this](std::span<const int32_t> t, Tensor& l) { model.feed(t, l); }, tok, turn, logits, sampler,
             prefill_opt, [](const std::string&) {});
    progress.clear();
    if (signals::interrupt_flag().exchange(false)) {  // stopped while reading the message: as if never sent
      model.restore(*before);
      sampler.restore(memory_before);
      note("interrupted: message not sent");
      return;
    }
    history.start_turn();
    history.append(turn);
    retry_state = model.snapshot();
    retry_turn = turn;
    retry_logits = logits.clone();
    retry_memory = sampler.memory();
    reply();
  }

  // Generates a reply from the current state and logits, then feeds what ends the turn.
  void reply() {
    out.write(format.kind == ChatFormat::Kind::ChatML ? "Assistant: " : "Assistant:");
    out.flush();
    GenerateOptions o = opt;
    o.context_room = model.context_room();
    const GenerateStats st = generate([this](std::span<const int32_t> t, Tensor& l) { model.feed(t, l); }, tok, {},
                                      logits, sampler, o, [this](const std::string& s) {
                                        out.write(s);
                                        out.flush();
                                      });
    out.write("\n");
    history.append(st.tokens);
    if (st.stop_reason == "interrupted") {
      signals::interrupt_flag().store(false);
      note("interrupted: the reply so far is kept");
    } else if (st.stop_reason == "context full") {
      note("the reply reached the end of the context");
    }
    const std::vector<int32_t> tail = tok.encode(format.after_reply(st.stop_string));
    if (int64_t(tail.size()) <= model.context_room()) {
      feed(tail);
      history.append(tail);
    }
    const int64_t limit = model.context_limit();
    const int64_t used = limit - model.context_room();
    if (limit > 0 && used * 4 >= limit * 3 && !warned_full) {
      note(concat("context: ", used, " of ", limit, " tokens used; the oldest turns will be dropped to make room"));
      warned_full = true;
    } else if (limit > 0 && used * 4 < limit * 3) {
      warned_full = false;
    }
  }

  void retry() {
    if (!retry_state) return note("nothing to retry");
    model.restore(*retry_state);
    logits = retry_logits.clone();
    sampler.restore(retry_memory);
    // The history's last turn holds the user's message, the old reply and its tail: keep the message.
    history.drop_last_turn();
    history.start_turn();
    history.append(retry_turn);
    reply();
  }
};
}  // namespace

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat interactively (/help lists the commands)");
  auto margs = std::make_shared<ModelArgs>();
  auto sargs = std::make_shared<SamplingArgs>();
  auto tokenizer = std::make_shared<std::string>();
  auto n = std::make_shared<int64_t>(500);
  auto system = std::make_shared<std::string>();
  auto state_in = std::make_shared<std::string>();
  auto state_out = std::make_shared<std::string>();
  auto stops = std::make_shared<std::vector<std::string>>();
  margs->add_to(cmd);
  sargs->add_to(cmd);
  cmd->add_option("--tokenizer", *tokenizer, "Tokenizer (default: the model folder's tokenizer.json)");
  cmd->add_option("-n,--max-tokens", *n, "Longest reply in tokens")->capture_default_str()->check(at_least(1));
  cmd->add_option("--system", *system, "A system prompt placed before the conversation");
  cmd->add_option("--stop", *stops, "Also end a reply when this text appears (repeatable)");
  cmd->add_option("--state-in", *state_in, "Start from a saved state");
  cmd->add_option("--state-out", *state_out, "Save the state when the chat ends");
  cmd->callback([=] {
    if (!state_out->empty()) io::check_writable(*state_out, "--state-out");
    auto model = margs->load();
    const auto tok = load_tokenizer_for(*tokenizer, *margs, *model);
    const ChatFormat format = ChatFormat::for_model(models::architecture_named(model->architecture()).chat_format, margs->path);
    const SamplingDefaults sd = sargs->resolve(*model, margs->path, /*chat=*/true);
    Sampler sampler(sd.params, model->vocab());
    sampler.restrict_to(tok->vocab_size());
    Chat chat{*model, *tok, format, sampler};
    chat.opt.max_tokens = *n;
    chat.opt.stop_tokens = tok->end_of_text();
    for (const std::string& s : format.stop_tokens)
      if (int32_t id = tok->special_id(s); id >= 0) chat.opt.stop_tokens.push_back(id);
    chat.opt.stop_tokens.insert(chat.opt.stop_tokens.end(), sd.stop_tokens.begin(), sd.stop_tokens.end());
    chat.opt.stop_strings = format.stop_strings;
    chat.opt.stop_strings.insert(chat.opt.stop_strings.end(), stops->begin(), stops->end());
    chat.opt.interrupt = &signals::interrupt_flag();
    const ThreadSetting threads = margs->thread_setting();
    ThreadGovernor governor(threads.count);
    if (threads.adaptive) chat.opt.threads = &governor;
    if (!system->empty()) chat.system_ids = tok->encode(format.system(*system));
    chat.history.set_system(chat.system_ids);
    if (!state_in->empty()) {
      model->load_state(*state_in);
      chat.history.forget();
    } else {
      chat.feed(chat.system_ids);
    }
    LineReader reader(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) ? "User: " : "");
    if (reader.interactive())
      chat.out.write(concat("gander chat: ", model->architecture(), " ", model->describe(), ", ", threads.describe(),
                            ". /help lists the commands; Ctrl-D or Ctrl-C at the prompt quits.\n"));
    PrefillProgress progress;
    const signals::ArmInterrupt arm;  // Ctrl-C stops a reply instead of ending the process
    while (true) {
      if (reader.interactive()) chat.out.write("\n"), chat.out.flush();
      const std::optional<std::string> line = reader.read();
      if (!line) break;
      signals::interrupt_flag().store(false);
      std::string text = *line;
      if (text.starts_with("/") && !text.starts_with("//")) {
        const size_t sp = text.find(' ');
        const std::string command = text.substr(0, sp);
        const std::string arg = sp == std::string::npos ? "" : clean_chat_message(text.substr(sp + 1));
        if (command == "/quit" || command == "/exit") break;
        if (command == "/help") {
          chat.out.write(std::string(kHelp) + "\n");
        } else if (command == "/reset") {
          chat.reset();
          chat.note("state reset");
        } else if (command == "/retry") {
          chat.retry();
        } else if (command == "/save" || command == "/load") {
          if (arg.empty()) {
            chat.note(concat("error: usage: ", command, " FILE"));
            continue;
          }
          try {
            if (command == "/save") {
              model->save_state(arg);
              chat.note("state saved to " + arg);
            } else {
              model->load_state(arg);
              sampler.reset_penalties();
              chat.history.forget();
              chat.retry_state.reset();
              chat.note("state loaded from " + arg);
            }
          } catch (const std::exception& e) {
            chat.note(concat("error: ", e.what()));
          }
        } else {
          chat.note(concat("error: unknown command ", command, " (/help lists them; start with // to send a '/')"));
        }
        continue;
      }
      if (text.starts_with("//")) text.erase(0, 1);
      const std::string msg = clean_chat_message(text);
      if (msg.empty()) continue;
      chat.exchange(msg, progress);
    }
    chat.out.flush();
    if (!state_out->empty()) {
      model->save_state(*state_out);
      std::fprintf(stderr, "state saved to %s\n", state_out->c_str());
    }
  });
}

}  // namespace gander::cli
