#include "generate/generator.h"

#include <algorithm>

#include "core/timer.h"
#include "generate/text_stream.h"

namespace gander {

namespace {
bool interrupted(const GenerateOptions& opt) { return opt.interrupt && opt.interrupt->load(); }

// Feeds the prompt, in slices when someone watches the progress (the model's state carries over
// from slice to slice, so the result is the same as one call).
void prefill(const FeedFn& feed, std::span<const int32_t> prompt, Tensor& logits, const GenerateOptions& opt) {
  if (!opt.on_prefill_progress || int64_t(prompt.size()) <= opt.prefill_slice) {
    if (!prompt.empty()) feed(prompt, logits);
    return;
  }
  const int64_t total = int64_t(prompt.size());
  for (int64_t done = 0; done < total && !interrupted(opt);) {
    const int64_t n = std::min(opt.prefill_slice, total - done);
    feed(prompt.subspan(size_t(done), size_t(n)), logits);
    done += n;
    opt.on_prefill_progress(done, total);
  }
}
}  // namespace

GenerateStats generate(const FeedFn& feed, const Tokenizer& tok, std::span<const int32_t> prompt, Tensor& logits,
                       Sampler& sampler, const GenerateOptions& opt,
                       const std::function<void(const std::string&)>& on_text) {
  GenerateStats st;
  st.prompt_tokens = int64_t(prompt.size());
  sampler.observe_context(prompt);
  double t0 = now_seconds();
  prefill(feed, prompt, logits, opt);
  st.prefill_seconds = now_seconds() - t0;
  if (opt.on_prefill_done) opt.on_prefill_done();
  GANDER_CHECK(logits.defined(), "generate: nothing to continue from (empty prompt and no logits)");
  TextStream stream(opt.stop_strings);
  st.stop_reason = "length";
  t0 = now_seconds();
  for (int64_t i = 0; i < opt.max_tokens; ++i) {
    if (interrupted(opt)) {
      st.stop_reason = "interrupted";
      break;
    }
    if (i >= opt.context_room) {
      st.stop_reason = "context full";
      break;
    }
    const int32_t next = sampler.sample(std::span<const float>(logits.data<float>(), size_t(logits.dim(-1))));
    if (std::find(opt.stop_tokens.begin(), opt.stop_tokens.end(), next) != opt.stop_tokens.end()) {
      st.stop_reason = "stop token";
      break;
    }
    const int32_t one[1] = {next};
    const std::string bytes = tok.decode(one);
    sampler.observe(next, penalty_weight(bytes));
    st.tokens.push_back(next);
    ++st.generated_tokens;
    if (const std::string out = stream.push(bytes); !out.empty()) on_text(out);
    if (opt.threads) opt.threads->begin_step();
    feed(one, logits);
    if (opt.threads) opt.threads->end_step();
    if (stream.stopped()) {
      st.stop_reason = "stop string";
      break;
    }
  }
  if (opt.threads) set_num_threads(opt.threads->max());  // prefill and everything else: all of them
  st.decode_seconds = now_seconds() - t0;
  if (interrupted(opt) && st.stop_reason != "stop string") st.stop_reason = "interrupted";
  if (const std::string out = stream.flush(); !out.empty()) on_text(out);
  st.text = stream.text();
  st.stop_string = stream.stop_string();
  return st;
}

}  // namespace gander
