// gander generate: stream a continuation of a prompt.
#include <cstdio>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "cli/sampling_args.h"
#include "cli/tokenizer_args.h"
#include "generate/generator.h"

namespace gander::cli {

void register_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt, streaming the text");
  auto margs = std::make_shared<ModelArgs>();
  auto sp = std::make_shared<SamplingParams>(SamplingParams::pipeline_defaults());
  auto tokenizer = std::make_shared<std::string>();
  auto prompt = std::make_shared<std::string>();
  auto n = std::make_shared<int64_t>(200);
  auto state_in = std::make_shared<std::string>();
  auto state_out = std::make_shared<std::string>();
  auto stops = std::make_shared<std::vector<std::string>>();
  margs->add_to(cmd);
  add_sampling_options(cmd, *sp);
  cmd->add_option("--tokenizer", *tokenizer, "Tokenizer (rwkv_vocab_v20230424.txt or tokenizer.json; default: the model folder's)");
  cmd->add_option("--prompt,-p", *prompt, "Prompt text")->required();
  cmd->add_option("-n,--max-tokens", *n, "Tokens to generate")->capture_default_str()->check(at_least(0));
  cmd->add_option("--stop", *stops, "Stop when this text appears (repeatable)");
  cmd->add_option("--state-in", *state_in, "Start from a saved state");
  cmd->add_option("--state-out", *state_out, "Save the final state");
  cmd->callback([=] {
    auto model = margs->load();
    const auto tok = load_tokenizer_for(*tokenizer, *margs, *model);
    GANDER_CHECK(!prompt->empty(), "the prompt is empty");
    if (!state_in->empty()) model->load_state(*state_in);
    const std::vector<int32_t> ids = tok->encode(*prompt);
    Sampler sampler(*sp, model->vocab());
    sampler.restrict_to(tok->vocab_size());
    GenerateOptions opt;
    opt.max_tokens = *n;
    opt.stop_tokens = tok->end_of_text();
    opt.stop_strings = *stops;
    Tensor logits;
    auto feed = [&](std::span<const int32_t> t, Tensor& out) { model->feed(t, out); };
    std::fwrite(prompt->data(), 1, prompt->size(), stdout);
    const GenerateStats st = generate(feed, *tok, ids, logits, sampler, opt, [](const std::string& s) {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    });
    std::fprintf(stderr, "\n[prefill %lld tokens, %.1f tokens/s | decode %lld tokens, %.1f tokens/s | stop: %s]\n",
                 (long long)st.prompt_tokens, st.prefill_tps(), (long long)st.generated_tokens, st.decode_tps(),
                 st.stop_reason.c_str());
    if (!state_out->empty()) model->save_state(*state_out);
  });
}

}  // namespace gander::cli
