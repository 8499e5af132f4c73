#include "cli/model_args.h"

#include "cli/commands.h"
#include "core/threads.h"
#include "models/registry.h"

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
  std::string kinds, examples;
  for (const models::Architecture* a : models::architectures()) {
    kinds += (kinds.empty() ? "" : "; ") + a->summary;
    examples += (examples.empty() ? "" : " or ") + a->random_example;
  }
  cmd->add_option("model", path, "The model (its architecture is detected): " + kinds);
  cmd->add_option("--random", random, "Use a random model of this shape instead: " + examples);
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

std::unique_ptr<Runner> ModelArgs::load() const {
  set_num_threads(thread_setting().count);
  GANDER_CHECK(path.empty() != random.empty(), "give either a model path or --random SHAPE (not both)");
  GANDER_CHECK(!seed_option || !seed_option->count() || !random.empty(), "--model-seed applies to --random models only");
  models::LoadOptions opt;
  if (!dtype.empty()) opt.convert = dtype_from_name(dtype);
  opt.chunk = chunk;
  opt.reference = reference;
  opt.time_state = time_state;
  opt.seed = seed;
  std::unique_ptr<Runner> r = random.empty() ? models::load_model(path, opt) : models::random_model(random, opt);
  const bool bf16 = precision == "bf16" || (precision == "auto" && r->matrix_dtype() == DType::BF16);
  r->set_precision(bf16 ? ops::Precision::BF16 : ops::Precision::F32);
  return r;
}

}  // namespace gander::cli
