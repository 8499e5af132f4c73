// gander inspect: what a checkpoint or model folder holds, and which architecture it is.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "io/checkpoint.h"
#include "models/registry.h"

namespace gander::cli {

namespace {
nlohmann::json describe_checkpoint(const io::Checkpoint& ck, bool list) {
  int64_t params = 0;
  std::map<std::string, int64_t> by_dtype;
  for (const auto& name : ck.names()) {
    const Tensor& t = ck.get(name);
    params += t.numel();
    by_dtype[dtype_name(t.dtype())] += t.numel();
  }
  nlohmann::json j = {{"file", ck.source()},          {"format", ck.format()},        {"tensors", ck.size()},
                      {"parameters", params},         {"bytes", ck.total_bytes()},    {"parameters_by_dtype", by_dtype},
                      {"metadata", ck.metadata()}};
  if (list) {
    nlohmann::json t = nlohmann::json::array();
    for (const auto& name : ck.names()) {
      const Tensor& x = ck.get(name);
      t.push_back({{"name", name}, {"dtype", dtype_name(x.dtype())}, {"shape", x.shape()}});
    }
    j["tensor_list"] = t;
  }
  return j;
}

void print_text(const nlohmann::json& j, StdoutWriter& out) {
  if (j.contains("architecture")) {
    out.write(concat("architecture: ", j["architecture"].get<std::string>(), "\n"));
    for (const auto& [k, v] : j["model"].items())
      out.write(concat("  ", k, ": ", v.is_string() ? v.get<std::string>() : v.dump(), "\n"));
  } else {
    out.write(concat("architecture: unknown (", j["architecture_error"].get<std::string>(), ")\n"));
  }
  if (!j.contains("checkpoint")) return;
  const auto& c = j["checkpoint"];
  const int64_t params = c["parameters"].get<int64_t>();
  char billions[32];
  std::snprintf(billions, sizeof billions, "%.3f", double(params) / 1e9);
  out.write(concat("file: ", c["file"].get<std::string>(), "\nformat: ", c["format"].get<std::string>(),
                   "\ntensors: ", c["tensors"].get<int64_t>(), "\nparameters: ", params, " (", billions,
                   " B)\nbytes: ", c["bytes"].get<int64_t>(), "\n"));
  for (const auto& [dt, n] : c["parameters_by_dtype"].items()) out.write(concat("  ", dt, ": ", n.get<int64_t>(), " parameters\n"));
  for (const auto& [k, v] : c["metadata"].items()) out.write(concat("metadata ", k, " = ", v.get<std::string>(), "\n"));
  if (c.contains("tensor_list"))
    for (const auto& t : c["tensor_list"]) {
      std::string shape = "[";
      for (const auto& d : t["shape"]) shape += (shape.size() > 1 ? ", " : "") + std::to_string(d.get<int64_t>());
      char line[512];
      std::snprintf(line, sizeof line, "  %-48s %s %s]\n", t["name"].get<std::string>().c_str(),
                    t["dtype"].get<std::string>().c_str(), shape.c_str());
      out.write(line);
    }
}
}  // namespace

void register_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Describe a model: architecture, format, tensors, dtypes, parameter count");
  auto path = std::make_shared<std::string>();
  auto list = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "Checkpoint file or model folder")->required();
  cmd->add_flag("--tensors", *list, "List every tensor");
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->callback([=] {
    models::ModelSource source = models::ModelSource::open(*path);
    nlohmann::json j;
    try {
      const models::Architecture& arch = models::detect(source);
      j["architecture"] = arch.name;
      j["model"] = arch.describe(source);
    } catch (const Error& e) {
      j["architecture_error"] = e.what();
    }
    // A folder's weights are read here; a file's were read to detect its architecture.
    io::Checkpoint ck;
    try {
      ck = source.checkpoint ? std::move(*source.checkpoint) : io::load_checkpoint(*path);
    } catch (const Error&) {
      if (j.contains("architecture_error")) throw Error(j["architecture_error"].get<std::string>());
      throw;
    }
    j["checkpoint"] = describe_checkpoint(ck, *list);
    StdoutWriter out;
    if (*json) out.write(j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    else print_text(j, out);
    out.flush();
  });
}

}  // namespace gander::cli
