// gander convert: write any model gander loads as safetensors (a .pth user's way to safetensors,
// official <-> Hugging Face names, another storage dtype); or, given a RECIPE.yaml, run a RADLADS
// conversion of a Qwen2 teacher into a RAD-RWKV7 student (radlads/recipe.h; docs/radlads.md).
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/convert_recipe.h"
#include "cli/model_args.h"
#include "core/error.h"
#include "core/threads.h"
#include "models/registry.h"
#include "radlads/recipe.h"

namespace gander::cli {

namespace {
bool is_recipe(const std::string& path) { return path.ends_with(".yaml") || path.ends_with(".yml"); }

void print_recipe_keys() {
  std::printf("%-14s %-8s %-26s %s\n", "key", "type", "default", "meaning");
  for (const radlads::RecipeKey& k : radlads::recipe_keys())
    std::printf("%-14s %-8s %-26s %s\n", k.name.c_str(), k.type.c_str(), k.default_value.c_str(), k.doc.c_str());
  std::printf("\nkeys of each step section (step1, step2, step2a, step3), with each step's default:\n");
  std::printf("%-15s %-16s %-15s %-15s %-15s %-15s %s\n", "key", "type", "step1", "step2", "step2a", "step3", "meaning");
  for (const radlads::StepKeyDoc& k : radlads::recipe_step_keys()) {
    std::printf("%-15s %-16s", k.name.c_str(), k.type.c_str());
    for (const std::string& d : k.defaults) std::printf(" %-15s", d.empty() ? "[]" : d.c_str());
    std::printf(" %s\n", k.doc.c_str());
  }
}
}  // namespace

void register_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "convert", "Write a model as safetensors (other names, another dtype), or run a RADLADS conversion recipe "
                 "(RECIPE.yaml: a Qwen2 teacher into a RAD-RWKV7 student, steps 1-3)");
  auto in = std::make_shared<std::string>();
  auto opt = std::make_shared<models::SaveOptions>();
  auto dtype = std::make_shared<std::string>();
  struct RecipeOpts {
    std::vector<std::string> set;
    bool resume = false, json = false, keys = false;
    std::string threads;
  };
  auto ro = std::make_shared<RecipeOpts>();
  cmd->add_option("model", *in, "The model to read (any path the other commands take), or a RADLADS recipe (.yaml)");
  cmd->add_option("-o,--out", opt->out,
                  "Where to write: a .safetensors file (RWKV-7 with official names) or a folder (Hugging Face names, "
                  "with config.json; Qwen2 always)");
  cmd->add_option("--dtype", *dtype, "Store the weight matrices as f32, bf16 or f16 (default: as they are)")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}));
  cmd->add_option("--names", opt->names,
                  "official: the architecture's own names (RWKV-LM for RWKV-7); hf: Hugging Face / fla names in a "
                  "folder with config.json")
      ->check(CLI::IsMember({"official", "hf"}))
      ->capture_default_str();
  cmd->add_option("--set", ro->set, "Recipe: override a key, e.g. --set step2.lr=1e-4 (repeatable)");
  cmd->add_flag("--resume", ro->resume, "Recipe: continue the conversion in its out folder");
  cmd->add_flag("--json", ro->json, "Recipe: end with the report as one JSON line");
  cmd->add_flag("--keys", ro->keys, "List every recipe key with its type and default, and exit");
  add_threads_option(cmd, ro->threads, std::to_string(hardware_threads()));
  cmd->callback([=] {
    if (ro->keys) {
      print_recipe_keys();
      return;
    }
    GANDER_CHECK(!in->empty(), "convert: give a model to convert (with -o) or a recipe (RECIPE.yaml)");
    if (is_recipe(*in)) {
      GANDER_CHECK(opt->out.empty() && dtype->empty(), "convert ", *in,
                   ": a recipe names its own out (-o and --dtype convert a model)");
      std::signal(SIGXFSZ, SIG_IGN);  // a full disk or a file-size limit is an error, not a kill
      set_num_threads(ThreadSetting::parse(ro->threads).count);
      const radlads::Recipe recipe = radlads::load_recipe(*in, ro->set);
      const radlads::ConversionReport r = run_recipe(recipe, ro->resume);
      if (ro->json) std::printf("%s\n", nlohmann::json::parse(radlads::report_json(r)).dump().c_str());
      return;
    }
    GANDER_CHECK(ro->set.empty() && !ro->resume && !ro->json, "convert ", *in,
                 ": --set, --resume and --json belong to recipes (RECIPE.yaml)");
    GANDER_CHECK(!opt->out.empty(), "convert ", *in, ": give -o (the file or folder to write)");
    if (!dtype->empty()) opt->dtype = dtype_from_name(*dtype);
    models::convert_model(*in, *opt);
    std::fprintf(stderr, "wrote %s\n", opt->out.c_str());
  });
}

}  // namespace gander::cli
