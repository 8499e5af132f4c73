#include "cli/model_args.h"

#include "core/threads.h"
#include "io/checkpoint.h"
#include "ops/impl.h"

namespace gander::cli {

void ModelArgs::add_to(CLI::App* cmd, bool positional) {
  if (positional) cmd->add_option("model", path, "Model checkpoint (.pth, .safetensors) or folder");
  cmd->add_option("--random", random, "Use a random-initialised model of this shape instead, e.g. rwkv7:L12,D768,V65536");
  cmd->add_option("--dtype", dtype, "Convert weight matrices on load: f32, bf16 or f16 (default: as stored)");
  cmd->add_option("--threads,-t", threads, "Threads (default: all cores)");
  cmd->add_flag("--reference", reference, "Use the plain reference kernels (slow; for checking)");
  cmd->add_option("--precision", precision,
                  "Prefill matrix products: f32 (exact), bf16 (AMX; activations rounded to bf16), or auto "
                  "(bf16 when the weights are bf16)")
      ->check(CLI::IsMember({"auto", "f32", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--chunk", chunk, "Longest chunk of prompt tokens processed at once")->check(CLI::PositiveNumber);
  cmd->add_option("--model-seed", seed, "Seed of the random model");
}

std::unique_ptr<rwkv7::Model> ModelArgs::load() const {
  set_num_threads(threads);
  ops::set_impl(reference ? ops::Impl::Reference : ops::Impl::Fast);
  GANDER_CHECK(path.empty() != random.empty(), "give either a model path or --random SHAPE (not both)");
  rwkv7::ForwardOptions opt;
  opt.chunk = chunk;
  auto finish = [&](rwkv7::Weights w) {
    const bool bf16 = precision == "bf16" || (precision == "auto" && w.matrix_dtype == DType::BF16);
    opt.precision = bf16 ? ops::Precision::BF16 : ops::Precision::F32;
    return std::make_unique<rwkv7::Model>(std::move(w), opt);
  };
  if (!random.empty()) {
    GANDER_CHECK(random.starts_with("rwkv7:"), "--random: unknown architecture in '", random,
                 "' (supported: rwkv7:L..,D..,V..)");
    const rwkv7::Config c = rwkv7::Config::parse_shape(random.substr(6));
    const DType dt = dtype.empty() ? DType::BF16 : dtype_from_name(dtype);
    return finish(rwkv7::random_weights(c, dt, seed));
  }
  const io::Checkpoint ck = io::load_checkpoint(path);
  if (dtype.empty()) return finish(rwkv7::load_weights(ck));
  const DType dt = dtype_from_name(dtype);
  return finish(rwkv7::load_weights(ck, &dt));
}

}  // namespace gander::cli
