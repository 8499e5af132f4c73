// Qwen2's training loss written out in double precision from the transformers modelling code's
// equations (RMSNorm, q/k/v with biases, rotate-half RoPE, causal grouped attention, SwiGLU, a
// tied or separate head, mean cross-entropy), on weights named as Hugging Face names them. It
// shares no code with models/: it is what the whole-model gradient check differentiates.
#pragma once
#include <map>
#include <span>
#include <string>
#include <vector>

#include "models/qwen2/config.h"

namespace gander::test {

using NamedWeights = std::map<std::string, std::vector<double>>;

// Mean cross-entropy over the positions whose target is >= 0; `ids` and `targets` hold `batch`
// sequences of `seq` tokens, each starting at position 0.
double qwen2_reference_loss(const qwen2::Config& c, const NamedWeights& w, std::span<const int32_t> ids,
                            std::span<const int32_t> targets, int64_t batch, int64_t seq);

}  // namespace gander::test
