#include "generate/generator.h"

#include <algorithm>

#include "core/timer.h"
#include "generate/text_stream.h"

namespace gander {

GenerateStats generate(const FeedFn& feed, const Tokenizer& tok, std::span<const int32_t> prompt, Tensor& logits,
                       Sampler& sampler, const GenerateOptions& opt,
                       const std::function<void(const std::string&)>& on_text) {
  GenerateStats st;
  st.prompt_tokens = int64_t(prompt.size());
  double t0 = now_seconds();
  if (!prompt.empty()) feed(prompt, logits);
  GANDER_CHECK(logits.defined(), "generate: nothing to continue from (empty prompt and no logits)");
  st.prefill_seconds = now_seconds() - t0;
  TextStream stream(opt.stop_strings);
  st.stop_reason = "length";
  t0 = now_seconds();
  for (int64_t i = 0; i < opt.max_tokens; ++i) {
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
    feed(one, logits);
    if (stream.stopped()) {
      st.stop_reason = "stop string";
      break;
    }
  }
  st.decode_seconds = now_seconds() - t0;
  if (const std::string out = stream.flush(); !out.empty()) on_text(out);
  st.text = stream.text();
  return st;
}

}  // namespace gander
