#include "models/rwkv7/architecture.h"

#include <algorithm>
#include <map>

#include "io/atomic_file.h"
#include "io/safetensors.h"

#include "models/rwkv7/model.h"

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

std::unique_ptr<Runner> make(std::shared_ptr<const models::Decoder> d, const models::LoadOptions& opt) {
  models::SequenceState initial = opt.time_state.empty() ? d->new_state() : load_time_state(opt.time_state, *d);
  return std::make_unique<Runner>(std::move(d), std::move(initial), models::RunOptions{.reference = opt.reference, .chunk = opt.chunk});
}

io::Checkpoint take_checkpoint(models::ModelSource& s) {
  io::Checkpoint ck = s.checkpoint ? std::move(*s.checkpoint) : io::load_checkpoint(s.path);
  s.checkpoint.reset();
  return ck;
}

std::unique_ptr<Runner> load(models::ModelSource& s, const models::LoadOptions& opt) {
  return make(rwkv7::load(take_checkpoint(s), opt.convert ? &*opt.convert : nullptr), opt);
}

std::unique_ptr<Runner> random(const std::string& shape, const models::LoadOptions& opt) {
  return make(rwkv7::random(Config::parse_shape(shape), opt.convert.value_or(DType::BF16), opt.seed), opt);
}

nlohmann::json describe(models::ModelSource& s) {
  if (!s.checkpoint) s.checkpoint = io::load_checkpoint(s.path);
  const std::unique_ptr<models::Decoder> d = read(*s.checkpoint);  // every tensor checked
  const Config c = config_of(*s.checkpoint);
  return {{"config", c.describe()},
          {"naming", models::naming_name(d->info().naming)},
          {"parameters_official_count", c.parameter_count()}};
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
  const io::Checkpoint ck = take_checkpoint(s);
  const std::unique_ptr<models::Decoder> d = read(ck);  // matrices as stored; converted while written
  const DType* dtype = o.dtype ? &*o.dtype : nullptr;
  const std::map<std::string, std::string> meta = {{"format", "pt"}};
  if (o.names == "official") {
    io::check_writable(o.out, "output");
    io::save_safetensors(o.out, models::stored_tensors(d->params(), models::Naming::RwkvLm, dtype), meta);
    return;
  }
  io::make_output_folder(o.out);
  io::save_safetensors(o.out + "/model.safetensors", models::stored_tensors(d->params(), models::Naming::Fla, dtype),
                       meta);
  io::write_file(o.out + "/config.json", fla_config(config_of(ck), o.dtype.value_or(d->matrix_dtype())).dump(2) + "\n");
}
std::unique_ptr<models::Decoder> build_shape(const std::string& shape) { return build(Config::parse_shape(shape)); }

std::unique_ptr<models::Decoder> read_weights(models::ModelSource& s) { return read(take_checkpoint(s)); }

// An fla / Hugging Face folder (the form `convert --names hf` writes) with the vocabulary beside it.
void save_trained(const models::Decoder& d, const models::TrainedSave& o) {
  io::Checkpoint official(o.out, "trained");
  for (auto& [name, t] : models::stored_tensors(d.params(), models::Naming::RwkvLm, nullptr)) official.add(name, t);
  const Config c = config_of(official);
  io::make_output_folder(o.out);
  io::save_safetensors(o.out + "/model.safetensors", models::stored_tensors(d.params(), models::Naming::Fla, nullptr),
                       {{"format", "pt"}});
  io::write_file(o.out + "/config.json", fla_config(c, DType::F32).dump(2) + "\n");
  models::copy_tokenizer_files(o.tokenizer, o.out);
}

// blocks.{l}.att.time_state [H, key, value], as RWKV-PEFT writes them and load_time_state reads.
void save_time_state(const models::Decoder& d, const models::SequenceState& s, const std::string& path) {
  io::NamedTensors out;
  for (int64_t l = 0; l < d.n_layer(); ++l) {
    const Tensor& wkv = s.get(state_name(l, "wkv"));
    const int64_t H = wkv.dim(0), N = wkv.dim(1);
    Tensor t = Tensor::empty(DType::F32, {H, N, N});
    const float* src = wkv.data<float>();
    float* dst = t.data<float>();
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < N; ++j) dst[(h * N + j) * N + i] = src[(h * N + i) * N + j];
    out.emplace_back(concat("blocks.", l, ".att.time_state"), std::move(t));
  }
  io::save_safetensors(path, out, {{"format", "pt"}});
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
      .build_shape = build_shape,
      .read_weights = read_weights,
      .save_trained = save_trained,
      .save_time_state = save_time_state,
      .student_of = nullptr,
  };
  return a;
}

}  // namespace gander::rwkv7
