#include "models/radlads/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/shape_spec.h"

namespace gander::radlads {

int64_t lora_rank(int64_t width, double exponent, double multiplier) {
  return 32 * std::max<int64_t>(1, std::llround(std::pow(double(width), exponent) * multiplier / 32.0));
}

void Config::resolve_ranks() {
  const int64_t D = body.hidden;
  auto fill = [&](int64_t& r, double e, double m) {
    if (r <= 0) r = lora_rank(D, e, m);
  };
  fill(rank_decay, 0.5, 1.8);
  if (mixer == MixerKind::Rwkv7) {
    fill(rank_iclr, 0.5, 1.8);
    fill(rank_value, 0.5, 1.3);
    fill(rank_gate, 0.8, 0.6);
  } else {
    fill(rank_tokenshift, 0.5, 1.8);
    if (gate_rank_type == 2) fill(rank_gate, 0.8, 0.6);
  }
}

void Config::check(const std::string& where) const {
  const int64_t L = body.n_layer;
  GANDER_CHECK(attention_layers >= 0 && attention_layers <= L, where, ": num_attention_layers ", attention_layers,
               " is outside [0, num_hidden_layers = ", L, "]");
  if (mixer == MixerKind::Rwkv7) {
    GANDER_CHECK(!use_tokenshift, where, ": use_tokenshift is true, but RAD-RWKV7 here has no token shift (the "
                 "paper removed it)");
    GANDER_CHECK(gate_rank_type == 2, where, ": gate_rank_type ", gate_rank_type,
                 " for RAD-RWKV7; only 2 (the LoRA gate of the release) is supported");
    GANDER_CHECK(balance_state != groupnorm_att, where, ": balance_state ", balance_state, " with groupnorm_att ",
                 groupnorm_att, " is neither RAD-RWKV7 form (balanced without GroupNorm, or the repository default: "
                 "GroupNorm without balancing)");
  } else {
    GANDER_CHECK(balance_state && !groupnorm_att, where, ": RAD-RWKV6 is supported in its published form only "
                 "(balance_state true, groupnorm_att false)");
    GANDER_CHECK(gate_rank_type == 1, where, ": gate_rank_type ", gate_rank_type,
                 " for RAD-RWKV6; only 1 (the full-rank gate of the release) is supported");
  }
  for (auto [r, name] : {std::pair{rank_decay, "lora_rank_decay"}, {rank_iclr, "lora_rank_iclr"},
                         {rank_value, "lora_rank_value_residual_mix"}, {rank_gate, "lora_rank_gate"},
                         {rank_tokenshift, "lora_rank_tokenshift"}})
    GANDER_CHECK(r >= 0 && r <= body.hidden * 4, where, ": ", name, " ", r, " is out of range");
}

models::TimeMix7Config::Form Config::rwkv7_form() const {
  return balance_state ? models::TimeMix7Config::Form::RadBalanced : models::TimeMix7Config::Form::RadDefault;
}

Config Config::for_teacher(const qwen2::Config& teacher, MixerKind mixer) {
  Config c;
  c.mixer = mixer;
  c.body = teacher;
  c.body.tied_embeddings = false;
  if (mixer == MixerKind::Rwkv7) {
    c.use_rope = true;  // "QRWKV7-7B-Instruct-RoPE"
  } else {
    c.use_tokenshift = true, c.gate_rank_type = 1;  // configs/qwerky6.yaml
  }
  c.resolve_ranks();
  return c;
}

Config Config::from_json(const io::JsonConfig& j) {
  const std::string type = j.get_string("model_type");
  GANDER_CHECK(type == "rwkv7qwen2" || type == "rwkv6qwen2", j.source(), ": field 'model_type' is '", type,
               "', expected 'rwkv7qwen2' or 'rwkv6qwen2'");
  Config c;
  c.mixer = type == "rwkv7qwen2" ? MixerKind::Rwkv7 : MixerKind::Rwkv6;
  c.body = qwen2::Config::from_json(j, type);
  const bool v7 = c.mixer == MixerKind::Rwkv7;
  c.balance_state = j.get_bool_or("balance_state", true);
  c.groupnorm_att = j.get_bool_or("groupnorm_att", false);
  c.use_rope = j.get_bool_or("use_rope", false);
  c.use_tokenshift = j.get_bool_or("use_tokenshift", !v7);
  c.gate_rank_type = j.get_int_or("gate_rank_type", v7 ? 2 : 1);
  c.rank_decay = j.get_int_or("lora_rank_decay", 0);
  c.rank_iclr = j.get_int_or("lora_rank_iclr", 0);
  c.rank_value = j.get_int_or("lora_rank_value_residual_mix", 0);
  c.rank_gate = j.get_int_or("lora_rank_gate", 0);
  c.rank_tokenshift = j.get_int_or("lora_rank_tokenshift", 0);
  c.attention_layers = j.get_int_or("num_attention_layers", 0);
  GANDER_CHECK(j.get_bool_or("attention_bias", true), j.source(),
               ": attention_bias is false; the students carry the teacher's q/k/v biases");
  GANDER_CHECK(!j.get_bool_or("attention_output_bias", false), j.source(),
               ": attention_output_bias is true; the teacher's o_proj has no bias");
  c.resolve_ranks();
  c.check(j.source());
  return c;
}

Config Config::parse_shape(const std::string& spec, MixerKind mixer) {
  std::string body;
  int64_t attention = 0;
  bool group_norm = false;
  for (const auto& [key, v] : parse_shape_items(spec)) {
    if (key == "A") attention = v;
    else if (key == "G") group_norm = true;
    else body += concat(body.empty() ? "" : ",", key, key == "T" ? "" : std::to_string(v));
  }
  Config c = for_teacher(qwen2::Config::parse_shape(body), mixer);
  c.attention_layers = attention;
  if (group_norm) {
    GANDER_CHECK(mixer == MixerKind::Rwkv7, "model shape '", spec, "': G (the GroupNorm form) is RAD-RWKV7's");
    c.balance_state = false, c.groupnorm_att = true;
  }
  c.check(concat("model shape '", spec, "'"));
  return c;
}

std::string Config::to_json() const {
  nlohmann::json j = nlohmann::json::parse(body.to_json());
  j["model_type"] = model_type();
  j["architectures"] = {hf_architecture()};
  j["tie_word_embeddings"] = body.tied_embeddings;
  j["lora_rank_decay"] = rank_decay;
  if (mixer == MixerKind::Rwkv7) {
    j["lora_rank_iclr"] = rank_iclr;
    j["lora_rank_value_residual_mix"] = rank_value;
    j["lora_rank_gate"] = rank_gate;
  } else {
    j["lora_rank_tokenshift"] = rank_tokenshift;
  }
  j["use_rope"] = use_rope;
  j["attention_bias"] = true;
  j["attention_output_bias"] = false;
  j["gate_rank_type"] = gate_rank_type;
  j["balance_state"] = balance_state;
  j["groupnorm_att"] = groupnorm_att;
  j["use_tokenshift"] = use_tokenshift;
  j["num_attention_layers"] = attention_layers;
  return j.dump(2) + "\n";
}

std::string Config::describe() const {
  std::string s = body.describe() + (mixer == MixerKind::Rwkv7 ? " RAD-RWKV7" : " RAD-RWKV6");
  if (mixer == MixerKind::Rwkv7) s += balance_state ? " balanced" : " GroupNorm";
  if (use_rope) s += " RoPE";
  if (use_tokenshift) s += " token-shift";
  if (attention_layers) s += concat(" +", attention_layers, " attention");
  return s;
}

}  // namespace gander::radlads
