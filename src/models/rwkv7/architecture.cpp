#include "models/rwkv7/architecture.h"

#include <algorithm>
#include <map>

#include "io/atomic_file.h"
#include "io/safetensors.h"

#include "models/rwkv7/runner.h"
#include "models/rwkv7/state.h"
#include "models/rwkv7/weights.h"

namespace gander::rwkv7 {

namespace {
bool has_rwkv7_tensors(const io::Checkpoint& ck) {
  return ck.contains("emb.weight") || ck.contains("model.embeddings.weight");
}

models::Detection detect(const models::ModelSource& s) {
  if (s.folder) {  // an fla / Hugging Face folder: config.json and model.safetensors in fla names
    const auto& a = s.hf_architectures;
    const bool named = s.model_type == "rwkv7" || std::find(a.begin(), a.end(), "RWKV7ForCausalLM") != a.end();
    return {named ? 2 : 0, {}};
  }
  return {s.checkpoint && has_rwkv7_tensors(*s.checkpoint) ? 1 : 0, {}};
}

std::unique_ptr<Runner> make(Weights w, const models::LoadOptions& opt) {
  ForwardOptions fo;
  if (opt.chunk > 0) fo.chunk = opt.chunk;
  const Config c = w.config;
  State initial = opt.time_state.empty() ? State::zeros(c) : load_time_state(opt.time_state, c);
  return make_runner(std::make_unique<Model>(std::move(w), fo), std::move(initial));
}

std::unique_ptr<Runner> load(models::ModelSource& s, const models::LoadOptions& opt) {
  const io::Checkpoint ck = s.checkpoint ? std::move(*s.checkpoint) : io::load_checkpoint(s.path);
  s.checkpoint.reset();
  return make(load_weights(ck, opt.convert ? &*opt.convert : nullptr), opt);
}

std::unique_ptr<Runner> random(const std::string& shape, const models::LoadOptions& opt) {
  return make(random_weights(Config::parse_shape(shape), opt.convert.value_or(DType::BF16), opt.seed), opt);
}

nlohmann::json describe(models::ModelSource& s) {
  if (!s.checkpoint) s.checkpoint = io::load_checkpoint(s.path);
  const Weights w = load_weights(*s.checkpoint);
  return {{"config", w.config.describe()},
          {"naming", w.naming},
          {"parameters_official_count", w.config.parameter_count()}};
}
// fla's config.json for these weights (sizes from the shapes; gander itself needs model_type only).
nlohmann::json fla_config(const Config& c, DType dtype) {
  return {{"model_type", "rwkv7"},
          {"architectures", {"RWKV7ForCausalLM"}},
          {"hidden_size", c.n_embd},
          {"num_hidden_layers", c.n_layer},
          {"head_dim", kHeadSize},
          {"num_heads", c.n_head},
          {"intermediate_size", c.dim_ffn},
          {"vocab_size", c.vocab},
          {"decay_low_rank_dim", c.rank_w},
          {"a_low_rank_dim", c.rank_a},
          {"v_low_rank_dim", c.rank_v},
          {"gate_low_rank_dim", c.rank_g},
          {"norm_eps", double(kLayerNormEps)},
          {"hidden_act", "sqrelu"},
          {"tie_word_embeddings", false},
          {"torch_dtype", dtype == DType::BF16 ? "bfloat16" : dtype == DType::F16 ? "float16" : "float32"}};
}

void save(models::ModelSource& s, const models::SaveOptions& o) {
  const io::Checkpoint ck = s.checkpoint ? std::move(*s.checkpoint) : io::load_checkpoint(s.path);
  s.checkpoint.reset();
  Weights w = load_weights(ck);  // matrices as stored; converted while written
  const DType* dtype = o.dtype ? &*o.dtype : nullptr;
  const std::map<std::string, std::string> meta = {{"format", "pt"}};
  if (o.names == "official") {
    io::check_writable(o.out, "output");
    const auto same = [](const models::Param& p) { return p; };
    const auto name = [](const std::string& n) { return n; };
    io::save_safetensors(o.out, models::stored_tensors(w.params(), same, name, dtype), meta);
    return;
  }
  io::make_output_folder(o.out);
  io::save_safetensors(o.out + "/model.safetensors", models::stored_tensors(w.params(), fla_layout, fla_name, dtype), meta);
  io::write_file(o.out + "/config.json", fla_config(w.config, o.dtype.value_or(w.matrix_dtype)).dump(2) + "\n");
}
}  // namespace

const models::Architecture& architecture() {
  static const models::Architecture a{
      .name = "rwkv7",
      .summary = "RWKV-7 Goose: official .pth / safetensors (RWKV-LM names) or an fla / Hugging Face folder",
      .random_example = "rwkv7:L12,D768,V65536",
      .chat_format = "rwkv",
      .sampling = "rwkv",
      .detect = detect,
      .load = load,
      .random = random,
      .describe = describe,
      .save = save,
  };
  return a;
}

}  // namespace gander::rwkv7
