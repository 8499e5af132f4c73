#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/softmax.h"

namespace gander::eval {

std::vector<int64_t> token_byte_lengths(const Tokenizer& t, int64_t model_vocab) {
  std::vector<int64_t> len(size_t(model_vocab), 0);
  for (int32_t id = 0; id < t.vocab_size() && id < model_vocab; ++id)
    len[size_t(id)] = int64_t(token_text(t, id).value_or("").size());
  for (int32_t end : t.end_of_text())
    if (end >= 0 && end < model_vocab) len[size_t(end)] = 0;
  return len;
}
namespace {

// One window: inputs tokens[begin, begin + inputs), scoring the targets at [first, end).
struct Window {
  int64_t begin, inputs, first, end;
};

std::vector<Window> plan_windows(int64_t n, int64_t ctx, int64_t stride) {
  std::vector<Window> out;
  int64_t scored_to = 1;  // the first token has nothing to predict it
  for (int64_t b = 0; scored_to < n; b += stride) {
    const int64_t end = std::min(b + ctx + 1, n);
    out.push_back({b, end - 1 - b, std::max(scored_to, b + 1), end});
    scored_to = end;
  }
  return out;
}

// -log p(target) of one row of logits (the row is overwritten).
double row_nll(float* row, int64_t V, int32_t target) {
  const float z = row[target];
  return ops::softmax_row_lse(row, V) - double(z);
}

}  // namespace

double PerplexityResult::perplexity() const { return std::exp(mean_nll()); }
double PerplexityResult::bits_per_byte() const { return bytes > 0 ? nll / std::log(2.0) / bytes : 0; }

PerplexityResult perplexity(std::shared_ptr<const models::Decoder> model, std::span<const int32_t> tokens,
                            const PerplexityOptions& o, const std::vector<int64_t>* byte_lengths,
                            const std::function<void(int64_t, int64_t)>& progress) {
  const int64_t n = int64_t(tokens.size()), stride = o.stride ? o.stride : o.ctx;
  GANDER_CHECK(o.ctx >= 1, "perplexity: --ctx must be at least 1");
  GANDER_CHECK(stride >= 1 && stride <= o.ctx, "perplexity: --stride ", stride, " must be from 1 to --ctx ", o.ctx,
               " (a larger one would skip tokens)");
  GANDER_CHECK(o.batch >= 1, "perplexity: --batch must be at least 1");
  GANDER_CHECK(n >= 2, "perplexity: the text has ", n, " token", n == 1 ? "" : "s", "; at least 2 are needed to score one");
  // Said before any work (Context would refuse the first window, or a stream part-way through).
  const int64_t limit = model->info().max_positions;
  GANDER_CHECK(limit <= 0 || (o.stream ? n - 1 : std::min(o.ctx, n - 1)) <= limit, "perplexity: ",
               o.stream ? concat("--stream over ", n - 1, " tokens") : concat("--ctx ", o.ctx), " exceeds the model's ",
               "max_position_embeddings = ", limit, o.stream ? " (score it in windows instead)" : "");
  const int64_t V = model->vocab();
  for (int64_t i = 0; i < n; ++i)
    GANDER_CHECK(tokens[size_t(i)] >= 0 && tokens[size_t(i)] < V, "perplexity: token ", i, " is ", tokens[size_t(i)],
                 ", outside the model's vocabulary of ", V);
  models::Context ctx(model, o.run);
  auto join = [&] { return o.initial ? ctx.join(o.initial->clone()) : ctx.join(); };
  PerplexityResult r;
  auto score = [&](Tensor& logits, int64_t row0, int64_t pos0, int64_t first, int64_t end) {
    float* base = logits.data<float>();  // (each scored row is overwritten by its softmax)
    for (int64_t p = first; p < end; ++p) {  // row row0 + (p - 1 - pos0) predicts token p
      const int32_t target = tokens[size_t(p)];
      r.nll += row_nll(base + (row0 + p - 1 - pos0) * V, V, target);
      if (byte_lengths) r.bytes += double((*byte_lengths)[size_t(target)]);
      ++r.tokens;
    }
  };
  Tensor logits;
  if (o.stream) {
    const auto seq = join();
    for (int64_t b = 0; b < n - 1; b += o.ctx) {
      const int64_t k = std::min(o.ctx, n - 1 - b);
      ctx.forward(seq, tokens.subspan(size_t(b), size_t(k)), logits, true);
      score(logits, 0, b, b + 1, b + k + 1);
      ++r.windows;
      if (progress) progress(r.tokens, n - 1);
    }
    return r;
  }
  const std::vector<Window> windows = plan_windows(n, o.ctx, stride);
  for (size_t w0 = 0; w0 < windows.size(); w0 += size_t(o.batch)) {
    const size_t w1 = std::min(windows.size(), w0 + size_t(o.batch));
    std::vector<models::Context::Step> steps;
    for (size_t w = w0; w < w1; ++w)
      steps.push_back({join(), tokens.subspan(size_t(windows[w].begin), size_t(windows[w].inputs))});
    ctx.forward(steps, logits, true);
    int64_t row0 = 0;
    for (size_t w = w0; w < w1; ++w) {
      score(logits, row0, windows[w].begin, windows[w].first, windows[w].end);
      row0 += windows[w].inputs;
      ctx.leave(steps[w - w0].seq);
    }
    r.windows += int64_t(w1 - w0);
    if (progress) progress(r.tokens, n - 1);
  }
  return r;
}

}  // namespace gander::eval
