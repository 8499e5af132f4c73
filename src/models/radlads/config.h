// A RADLADS student's configuration: the teacher's Qwen2 dimensions and the converted mixer's
// options, under the keys of the release's Hugging Face config.json (spec radlads.md §8: model_type
// "rwkv7qwen2" / "rwkv6qwen2", RWKV7Qwen2Config / RWKV6Qwen2Config), so a folder written here
// opens in their modelling code and a released one opens here.
#pragma once
#include <cstdint>
#include <string>

#include "io/hf_config.h"
#include "models/mixers/time_mix7.h"
#include "models/qwen2/config.h"

namespace gander::radlads {

enum class MixerKind { Rwkv7, Rwkv6 };

// The RADLADS code's LoRA rank rule: 32 * max(1, round(D^exponent * multiplier / 32)).
int64_t lora_rank(int64_t width, double exponent, double multiplier);

struct Config {
  MixerKind mixer = MixerKind::Rwkv7;
  qwen2::Config body;  // the teacher's dimensions; the student's head is never tied
  // The release's keys (their config class defaults where absent).
  bool balance_state = true;    // RAD-RWKV7: k/|k| and k(1-w+a); RAD-RWKV6: k(1-w)
  bool groupnorm_att = false;   // GroupNorm on the mixer output (RAD-RWKV7's repository default form)
  bool use_rope = false;        // the teacher's RoPE on r and k
  bool use_tokenshift = false;  // RAD-RWKV6's data-dependent token shift
  int64_t gate_rank_type = 2;   // 1: full-rank sigmoid gate (RAD-RWKV6); 2: LoRA gate (RAD-RWKV7)
  int64_t rank_decay = 0, rank_iclr = 0, rank_value = 0, rank_gate = 0, rank_tokenshift = 0;  // resolved
  int64_t attention_layers = 0;  // num_attention_layers: the last N layers keep softmax attention

  // The paper's student of a teacher: RAD-RWKV7 balanced with RoPE, or RAD-RWKV6 with token shift,
  // full-rank gate and no RoPE; ranks by the rule.
  static Config for_teacher(const qwen2::Config& teacher, MixerKind mixer);
  static Config from_json(const io::JsonConfig& j);
  // "L6,D256,H2,KV1,I768,V8256[,A1][,G]" as Qwen2's shapes plus A (attention layers) and G (the
  // GroupNorm form of RAD-RWKV7); the rest as for_teacher.
  static Config parse_shape(const std::string& spec, MixerKind mixer);
  std::string to_json() const;
  std::string describe() const;
  std::string model_type() const { return mixer == MixerKind::Rwkv7 ? "rwkv7qwen2" : "rwkv6qwen2"; }
  std::string hf_architecture() const {
    return mixer == MixerKind::Rwkv7 ? "RWKV7Qwen2ForCausalLM" : "RWKV6Qwen2ForCausalLM";
  }
  bool converted(int64_t layer) const { return layer < body.n_layer - attention_layers; }
  models::TimeMix7Config::Form rwkv7_form() const;
  void resolve_ranks();  // fills ranks left 0 by the rule (and checks the options' combination)
  void check(const std::string& where) const;
};

}  // namespace gander::radlads
