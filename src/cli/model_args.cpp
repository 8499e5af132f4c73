#include "cli/model_args.h"

#include <filesystem>

#include "cli/commands.h"
#include "core/threads.h"
#include "io/checkpoint.h"
#include "models/qwen2/runner.h"
#include "models/rwkv7/runner.h"
#include "ops/impl.h"

namespace gander::cli {

CLI::Option* add_threads_option(CLI::App* cmd, std::string& threads, const std::string& default_text) {
  threads = default_text;
  return cmd->add_option("-t,--threads", threads,
                         concat("Threads: a number from 1 to ", max_threads(), ", or 'auto' (all ", hardware_threads(),
                                " hardware threads, and fewer while decoding when another process competes for the "
                                "CPUs; see the README)"))
      ->default_str(default_text);
}

void ModelArgs::add_to(CLI::App* cmd, const std::string& threads_default) {
  cmd->add_option("model", path, "RWKV-7 checkpoint (.pth, .safetensors) or Qwen2 Hugging Face folder");
  cmd->add_option("--random", random,
                  "Use a random model of this shape instead: rwkv7:L12,D768,V65536 or qwen2:L24,D896,H14,KV2,I4864,V151936,T");
  cmd->add_option("--dtype", dtype, "Convert weight matrices on load: f32, bf16 or f16 (default: as stored)")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}));
  cmd->add_option("--time-state", time_state, "RWKV-7: start from a state-tuned initial state (blocks.N.att.time_state)");
  add_threads_option(cmd, threads, threads_default);
  cmd->add_flag("--reference", reference, "Use the plain reference kernels (slow; for checking)");
  cmd->add_option("--precision", precision,
                  "Prefill matrix products: f32 (exact), bf16 (AMX; activations rounded to bf16), or auto "
                  "(bf16 when the weights are bf16)")
      ->check(CLI::IsMember({"auto", "f32", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--chunk", chunk,
                  "Longest chunk of prompt tokens processed at once (default: RWKV-7 256 at bf16 precision, else 512)")
      ->check(at_least(1));
  seed_option = cmd->add_option("--model-seed", seed, "Seed of the random model (with --random)");
}

namespace {
bool is_qwen2_folder(const std::string& path) {
  namespace fs = std::filesystem;
  return fs::is_directory(path) && fs::exists(fs::path(path) / "config.json");
}
}  // namespace

std::unique_ptr<Runner> ModelArgs::load() const {
  set_num_threads(thread_setting().count);
  ops::set_impl(reference ? ops::Impl::Reference : ops::Impl::Fast);
  GANDER_CHECK(path.empty() != random.empty(), "give either a model path or --random SHAPE (not both)");
  GANDER_CHECK(!seed_option || !seed_option->count() || !random.empty(), "--model-seed applies to --random models only");
  const DType* convert = nullptr;
  DType dt{};
  if (!dtype.empty()) dt = dtype_from_name(dtype), convert = &dt;
  std::unique_ptr<Runner> r;
  if (random.starts_with("qwen2:") || (random.empty() && is_qwen2_folder(path))) {
    GANDER_CHECK(time_state.empty(), "--time-state applies to RWKV-7 models only");
    qwen2::ForwardOptions opt;
    if (chunk > 0) opt.chunk = chunk;
    qwen2::Weights w = random.empty() ? qwen2::load_folder(path)
                                      : qwen2::random_weights(qwen2::Config::parse_shape(random.substr(6)),
                                                              convert ? dt : DType::BF16, seed);
    if (convert && random.empty()) {
      for (auto& L : w.layers)
        for (Tensor* t : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) *t = t->to(dt);
      const bool tied = w.config.tied_embeddings;
      w.embed = w.embed.to(dt);
      w.lm_head = tied ? w.embed : w.lm_head.to(dt);
    }
    r = qwen2::make_runner(std::make_unique<qwen2::Model>(std::move(w), opt));
  } else {
    GANDER_CHECK(random.empty() || random.starts_with("rwkv7:"), "--random: unknown architecture in '", random,
                 "' (rwkv7:... or qwen2:...)");
    rwkv7::ForwardOptions opt;
    if (chunk > 0) opt.chunk = chunk;
    rwkv7::Weights w = random.empty() ? rwkv7::load_weights(io::load_checkpoint(path), convert)
                                      : rwkv7::random_weights(rwkv7::Config::parse_shape(random.substr(6)),
                                                              convert ? dt : DType::BF16, seed);
    const rwkv7::Config c = w.config;
    rwkv7::State initial = time_state.empty() ? rwkv7::State::zeros(c) : rwkv7::load_time_state(time_state, c);
    r = rwkv7::make_runner(std::make_unique<rwkv7::Model>(std::move(w), opt), std::move(initial));
  }
  const bool bf16 = precision == "bf16" || (precision == "auto" && r->matrix_dtype() == DType::BF16);
  r->set_precision(bf16 ? ops::Precision::BF16 : ops::Precision::F32);
  return r;
}

}  // namespace gander::cli
