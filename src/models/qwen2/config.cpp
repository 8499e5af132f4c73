#include "models/qwen2/config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/shape_spec.h"

namespace gander::qwen2 {

Config Config::from_json(const io::JsonConfig& j, const std::string& model_type) {
  const std::string type = j.get_string("model_type");
  GANDER_CHECK(type == model_type, j.source(), ": field 'model_type' is '", type, "', expected '", model_type, "'");
  Config c;
  c.n_layer = j.get_int("num_hidden_layers");
  c.hidden = j.get_int("hidden_size");
  c.intermediate = j.get_int("intermediate_size");
  c.n_head = j.get_int("num_attention_heads");
  c.n_kv_head = j.get_int_or("num_key_value_heads", c.n_head);
  c.vocab = j.get_int("vocab_size");
  c.rms_eps = float(j.get_double_or("rms_norm_eps", 1e-6));
  c.tied_embeddings = j.get_bool_or("tie_word_embeddings", false);
  c.max_positions = j.get_int_or("max_position_embeddings", 32768);
  for (auto [v, name] : {std::pair{c.n_layer, "num_hidden_layers"}, {c.hidden, "hidden_size"},
                         {c.intermediate, "intermediate_size"}, {c.n_head, "num_attention_heads"},
                         {c.n_kv_head, "num_key_value_heads"}, {c.vocab, "vocab_size"}})
    GANDER_CHECK(v > 0, j.source(), ": field '", name, "' must be positive, got ", v);
  GANDER_CHECK(c.n_head % c.n_kv_head == 0, j.source(), ": num_attention_heads ", c.n_head,
               " is not a multiple of num_key_value_heads ", c.n_kv_head);
  c.head_dim = j.get_int_or("head_dim", c.hidden / c.n_head);
  GANDER_CHECK(c.head_dim > 0 && c.head_dim % 2 == 0, j.source(), ": field 'head_dim' must be even and positive");
  if (auto rp = j.child("rope_parameters")) {
    const std::string rt = rp->has("rope_type") ? rp->get_string("rope_type") : "default";
    GANDER_CHECK(rt == "default", j.source(), ": rope_parameters.rope_type '", rt, "' is not supported (only 'default')");
    c.rope_theta = rp->get_double("rope_theta");
  } else {
    c.rope_theta = j.get_double_or("rope_theta", 10000.0);
    if (auto rs = j.child("rope_scaling")) {
      const std::string rt = rs->has("rope_type") ? rs->get_string("rope_type") : rs->get_string("type");
      GANDER_CHECK(rt == "default", j.source(), ": rope_scaling type '", rt, "' is not supported (only 'default')");
    }
  }
  // Outside these ranges the norms divide by zero or the RoPE frequencies overflow: NaN logits.
  GANDER_CHECK(std::isfinite(c.rope_theta) && c.rope_theta > 1 && c.rope_theta < 1e30, j.source(),
               ": field 'rope_theta' must be a number in (1, 1e30), got ", c.rope_theta);
  GANDER_CHECK(std::isfinite(c.rms_eps) && c.rms_eps > 0 && c.rms_eps < 1, j.source(),
               ": field 'rms_norm_eps' must be a number in (0, 1), got ", c.rms_eps);
  GANDER_CHECK(c.max_positions > 0, j.source(), ": field 'max_position_embeddings' must be positive, got ", c.max_positions);
  return c;
}

Config Config::parse_shape(const std::string& spec) {
  Config c;
  c.rope_theta = 1e6;
  c.max_positions = 32768;
  for (const auto& [key, v] : parse_shape_items(spec)) {
    if (key == "T") {
      c.tied_embeddings = true;
      continue;
    }
    if (key == "L") c.n_layer = v;
    else if (key == "D") c.hidden = v;
    else if (key == "H") c.n_head = v;
    else if (key == "KV") c.n_kv_head = v;
    else if (key == "I") c.intermediate = v;
    else if (key == "V") c.vocab = v;
    else if (key == "HD") c.head_dim = v;
    else fail("model shape '", spec, "': unknown key '", key, "' (use L, D, H, KV, I, V, HD, T)");
  }
  GANDER_CHECK(c.n_layer && c.hidden && c.n_head && c.intermediate && c.vocab, "model shape '", spec,
               "' needs L, D, H, I and V");
  if (!c.n_kv_head) c.n_kv_head = c.n_head;
  if (!c.head_dim) c.head_dim = c.hidden / c.n_head;
  GANDER_CHECK(c.n_head % c.n_kv_head == 0 && c.head_dim > 0 && c.head_dim % 2 == 0, "model shape '", spec,
               "': bad head layout (H a multiple of KV, an even head size D/H or HD)");
  return c;
}

std::string Config::to_json() const {
  nlohmann::json j = {{"model_type", "qwen2"},
                      {"architectures", {"Qwen2ForCausalLM"}},
                      {"hidden_size", hidden},
                      {"intermediate_size", intermediate},
                      {"num_hidden_layers", n_layer},
                      {"num_attention_heads", n_head},
                      {"num_key_value_heads", n_kv_head},
                      {"head_dim", head_dim},
                      {"vocab_size", vocab},
                      {"rope_theta", rope_theta},
                      {"rms_norm_eps", double(rms_eps)},
                      {"tie_word_embeddings", tied_embeddings},
                      {"max_position_embeddings", max_positions},
                      {"hidden_act", "silu"},
                      {"attention_dropout", 0.0},
                      {"use_sliding_window", false},
                      {"torch_dtype", "float32"}};
  return j.dump(2) + "\n";
}

std::string Config::describe() const {
  return concat("L", n_layer, " D", hidden, " heads ", n_head, "/", n_kv_head, "x", head_dim, " MLP", intermediate, " V",
                vocab, tied_embeddings ? " tied" : "");
}

}  // namespace gander::qwen2
