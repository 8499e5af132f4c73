// gander convert: write any model gander loads as safetensors (a .pth user's way to safetensors,
// official <-> Hugging Face names, another storage dtype).
#include <cstdio>

#include "cli/commands.h"
#include "models/registry.h"

namespace gander::cli {

void register_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Write a model as safetensors: other names, another dtype");
  auto in = std::make_shared<std::string>();
  auto opt = std::make_shared<models::SaveOptions>();
  auto dtype = std::make_shared<std::string>();
  cmd->add_option("model", *in, "The model to read (any path the other commands take)")->required();
  cmd->add_option("-o,--out", opt->out,
                  "Where to write: a .safetensors file (RWKV-7 with official names) or a folder (Hugging Face names, "
                  "with config.json; Qwen2 always)")
      ->required();
  cmd->add_option("--dtype", *dtype, "Store the weight matrices as f32, bf16 or f16 (default: as they are)")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}));
  cmd->add_option("--names", opt->names,
                  "official: the architecture's own names (RWKV-LM for RWKV-7); hf: Hugging Face / fla names in a "
                  "folder with config.json")
      ->check(CLI::IsMember({"official", "hf"}))
      ->capture_default_str();
  cmd->callback([=] {
    if (!dtype->empty()) opt->dtype = dtype_from_name(*dtype);
    models::convert_model(*in, *opt);
    std::fprintf(stderr, "wrote %s\n", opt->out.c_str());
  });
}

}  // namespace gander::cli
