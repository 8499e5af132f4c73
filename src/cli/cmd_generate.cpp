// gander generate: stream a continuation of a prompt.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/model_args.h"
#include "cli/progress.h"
#include "cli/sampling_args.h"
#include "cli/tokenizer_args.h"
#include "core/signals.h"
#include "generate/generator.h"
#include "io/atomic_file.h"

namespace gander::cli {

void register_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt, streaming the text");
  auto margs = std::make_shared<ModelArgs>();
  auto sargs = std::make_shared<SamplingArgs>();
  auto tokenizer = std::make_shared<std::string>();
  auto prompt = std::make_shared<std::string>();
  auto prompt_file = std::make_shared<std::string>();
  auto n = std::make_shared<int64_t>(200);
  auto state_in = std::make_shared<std::string>();
  auto state_out = std::make_shared<std::string>();
  auto stops = std::make_shared<std::vector<std::string>>();
  auto no_display = std::make_shared<bool>(false);
  margs->add_to(cmd);
  sargs->add_to(cmd);
  cmd->add_option("--tokenizer", *tokenizer, "Tokenizer (rwkv_vocab_v20230424.txt or tokenizer.json; default: the model folder's)");
  auto* p_opt = cmd->add_option("--prompt,-p", *prompt, "Prompt text (default: read standard input)");
  cmd->add_option("-f,--file", *prompt_file, "Read the prompt from this file")->excludes(p_opt);
  cmd->add_flag("--no-display-prompt", *no_display, "Print only the generated text, not the prompt before it");
  cmd->add_option("-n,--max-tokens", *n, "Tokens to generate")->capture_default_str()->check(at_least(0));
  cmd->add_option("--stop", *stops, "Stop when this text appears (repeatable)");
  cmd->add_option("--state-in", *state_in, "Start from a saved state");
  cmd->add_option("--state-out", *state_out, "Save the final state (also when stopped by Ctrl-C or a full context)");
  cmd->callback([=] {
    if (!state_out->empty()) io::check_writable(*state_out, "--state-out");
    std::string text = *prompt;
    if (!prompt_file->empty()) text = read_input_file(*prompt_file, "prompt file");
    else if (p_opt->count() == 0) text = read_stdin_text("prompt (give --prompt, -f FILE or pipe it in)");
    GANDER_CHECK(!text.empty(), "the prompt is empty");
    auto model = margs->load();
    const auto tok = load_tokenizer_for(*tokenizer, *margs, *model);
    if (!state_in->empty()) model->load_state(*state_in);
    const std::vector<int32_t> ids = tok->encode(text);
    GANDER_CHECK(int64_t(ids.size()) <= model->context_room(), "the prompt has ", ids.size(),
                 " tokens but the model's context has room for ", model->context_room(), " (max_position_embeddings ",
                 model->context_limit(), ")");
    const SamplingDefaults sd = sargs->resolve(*model, margs->path, /*chat=*/false);
    Sampler sampler(sd.params, model->vocab());
    sampler.restrict_to(tok->vocab_size());
    GenerateOptions opt;
    opt.max_tokens = *n;
    opt.stop_tokens = tok->end_of_text();
    opt.stop_tokens.insert(opt.stop_tokens.end(), sd.stop_tokens.begin(), sd.stop_tokens.end());
    opt.stop_strings = *stops;
    opt.context_room = model->context_room() - int64_t(ids.size());
    const ThreadSetting threads = margs->thread_setting();
    ThreadGovernor governor(threads.count);
    if (threads.adaptive) opt.threads = &governor;
    const signals::ArmInterrupt arm;  // Ctrl-C stops generating; the work so far is kept
    opt.interrupt = &signals::interrupt_flag();
    PrefillProgress progress;
    opt.on_prefill_progress = progress.callback();
    Tensor logits;
    auto feed = [&](std::span<const int32_t> t, Tensor& out) { model->feed(t, out); };
    StdoutWriter out;
    auto echo = [&] {
      progress.clear();
      if (!*no_display) out.write(text);
      out.flush();
    };
    // The prompt shows before the prefill, which may take a while; unless a progress line is drawn
    // on the same terminal, which would overwrite it: then it shows once the prefill is done.
    if (progress.shares_terminal_with_stdout(int64_t(ids.size()), opt.prefill_slice)) opt.on_prefill_done = echo;
    else echo();
    const GenerateStats st = generate(feed, *tok, ids, logits, sampler, opt, [&](const std::string& s) {
      out.write(s);
      out.flush();
    });
    progress.clear();
    if (out.last_char() != '\n') out.write("\n");
    out.flush();
    std::fprintf(stderr, "[prefill %lld tokens, %.1f tokens/s | decode %lld tokens, %.1f tokens/s | stop: %s]\n",
                 (long long)st.prompt_tokens, st.prefill_tps(), (long long)st.generated_tokens, st.decode_tps(),
                 st.stop_reason.c_str());
    if (!state_out->empty()) model->save_state(*state_out);
    if (st.stop_reason == "interrupted") throw ExitCode(130);
  });
}

}  // namespace gander::cli
