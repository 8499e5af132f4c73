// gander inspect: what a checkpoint holds.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "io/checkpoint.h"
#include "io/hf_config.h"
#include "models/qwen2/config.h"
#include "models/rwkv7/weights.h"

#include <filesystem>

namespace gander::cli {

void register_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Describe a checkpoint: format, tensors, dtypes, parameter count");
  auto path = std::make_shared<std::string>();
  auto list = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "Checkpoint file or model folder")->required();
  cmd->add_flag("--tensors", *list, "List every tensor");
  cmd->callback([=] {
    namespace fs = std::filesystem;
    if (fs::is_directory(*path) && fs::exists(fs::path(*path) / "config.json")) {
      const qwen2::Config c = qwen2::Config::from_json(io::JsonConfig::load((fs::path(*path) / "config.json").string()));
      std::printf("architecture: qwen2 (%s)\nrope_theta: %g, rms_norm_eps: %g, max positions: %lld\n",
                  c.describe().c_str(), c.rope_theta, double(c.rms_eps), (long long)c.max_positions);
    }
    const io::Checkpoint ck = io::load_checkpoint(*path);
    if (ck.contains("emb.weight") || ck.contains("model.embeddings.weight")) {
      const rwkv7::Weights w = rwkv7::load_weights(ck);
      std::printf("architecture: rwkv7 (%s), %s names\nparameters (official count): %lld\n",
                  w.config.describe().c_str(), w.naming.c_str(), (long long)w.config.parameter_count());
    }
    int64_t params = 0;
    std::map<std::string, int64_t> by_dtype;
    for (const auto& name : ck.names()) {
      const Tensor& t = ck.get(name);
      params += t.numel();
      by_dtype[dtype_name(t.dtype())] += t.numel();
    }
    std::printf("file: %s\nformat: %s\ntensors: %zu\nparameters: %lld (%.3f B)\nbytes: %lld\n", ck.source().c_str(),
                ck.format().c_str(), ck.size(), (long long)params, double(params) / 1e9, (long long)ck.total_bytes());
    for (auto& [dt, n] : by_dtype) std::printf("  %s: %lld parameters\n", dt.c_str(), (long long)n);
    for (auto& [k, v] : ck.metadata()) std::printf("metadata %s = %s\n", k.c_str(), v.c_str());
    if (*list)
      for (const auto& name : ck.names()) std::printf("  %-48s %s\n", name.c_str(), ck.get(name).describe().c_str());
  });
}

}  // namespace gander::cli
