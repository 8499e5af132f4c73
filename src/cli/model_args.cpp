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
  cmd->add_flag("--bf16-matmul", bf16_matmul, "Run prefill matrix products on the bf16 units (faster, bf16 rounding)");
  cmd->add_option("--chunk", chunk, "Longest chunk of prompt tokens processed at once")->check(CLI::PositiveNumber);
  cmd->add_option("--model-seed", seed, "Seed of the random model");
}

std::unique_ptr<rwkv7::Model> ModelArgs::load() const {
  set_num_threads(threads);
  ops::set_impl(reference ? ops::Impl::Reference : ops::Impl::Fast);
  GANDER_CHECK(path.empty() != random.empty(), "give either a model path or --random SHAPE (not both)");
  rwkv7::ForwardOptions opt;
  opt.precision = bf16_matmul ? ops::Precision::BF16 : ops::Precision::F32;
  opt.chunk = chunk;
  if (!random.empty()) {
    GANDER_CHECK(random.starts_with("rwkv7:"), "--random: unknown architecture in '", random,
                 "' (supported: rwkv7:L..,D..,V..)");
    const rwkv7::Config c = rwkv7::Config::parse_shape(random.substr(6));
    const DType dt = dtype.empty() ? DType::BF16 : dtype_from_name(dtype);
    return std::make_unique<rwkv7::Model>(rwkv7::random_weights(c, dt, seed), opt);
  }
  const io::Checkpoint ck = io::load_checkpoint(path);
  if (dtype.empty()) return std::make_unique<rwkv7::Model>(rwkv7::load_weights(ck), opt);
  const DType dt = dtype_from_name(dtype);
  return std::make_unique<rwkv7::Model>(rwkv7::load_weights(ck, &dt), opt);
}

}  // namespace gander::cli
