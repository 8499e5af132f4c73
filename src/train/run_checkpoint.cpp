#include "train/run_checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"

namespace gander::train {

namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "gander-run-checkpoint";

Tensor vector_tensor(const std::vector<float>& v, const Shape& shape) {
  Tensor t = Tensor::empty(DType::F32, shape);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

std::vector<std::pair<int64_t, fs::path>> checkpoints_in(const std::string& out) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  const fs::path dir = fs::path(out) / "checkpoints";
  if (!fs::is_directory(dir, ec)) return found;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    long long step = 0;
    char tail[32] = {0};
    if (std::sscanf(n.c_str(), "step-%lld.%31s", &step, tail) == 2 && std::string(tail) == "safetensors")
      found.emplace_back(step, e.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

int64_t meta_int(const io::Checkpoint& ck, const std::string& key) {
  const auto it = ck.metadata().find(key);
  GANDER_CHECK(it != ck.metadata().end(), ck.source(), ": not a gander run checkpoint (no '", key, "' in its metadata)");
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    fail(ck.source(), ": metadata '", key, "' is '", it->second, "', not an integer");
  }
}
}  // namespace

std::string save_run_checkpoint(const std::string& out, const RunState& s, const AdamW& opt, int64_t keep) {
  io::make_output_folder((fs::path(out) / "checkpoints").string(), "checkpoint folder");
  io::NamedTensors tensors;
  for (const AdamWTarget& t : opt.targets()) {
    tensors.emplace_back("value/" + t.name, *t.value);
    tensors.emplace_back("adam_m/" + t.name, vector_tensor(t.m, t.value->shape()));
    tensors.emplace_back("adam_v/" + t.name, vector_tensor(t.v, t.value->shape()));
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.17g", s.seconds);
  const std::map<std::string, std::string> meta = {{"format", kFormat},
                                                   {"step", std::to_string(s.step)},
                                                   {"tokens", std::to_string(s.tokens)},
                                                   {"adam_steps", std::to_string(opt.steps())},
                                                   {"seconds", seconds},
                                                   {"architecture", s.architecture},
                                                   {"shape", s.shape},
                                                   {"trajectory", s.trajectory}};
  char name[64];
  std::snprintf(name, sizeof name, "step-%08lld.safetensors", (long long)s.step);
  const std::string path = (fs::path(out) / "checkpoints" / name).string();
  io::save_safetensors(path, tensors, meta);
  // Only once the new one is in place: the oldest beyond `keep` go.
  auto all = checkpoints_in(out);
  for (size_t i = 0; i + size_t(keep) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i].second, ec);
  }
  return path;
}

std::string latest_run_checkpoint(const std::string& out) {
  auto all = checkpoints_in(out);
  return all.empty() ? "" : all.back().second.string();
}

RunState load_run_checkpoint(const std::string& path, const RunState& expect, AdamW& opt) {
  const io::Checkpoint ck = io::load_safetensors(path);
  const auto fmt = ck.metadata().find("format");
  GANDER_CHECK(fmt != ck.metadata().end() && fmt->second == kFormat, path, ": not a gander run checkpoint");
  RunState s;
  s.step = meta_int(ck, "step");
  s.tokens = meta_int(ck, "tokens");
  const int64_t adam_steps = meta_int(ck, "adam_steps");
  s.seconds = std::stod(ck.metadata().count("seconds") ? ck.metadata().at("seconds") : "0");
  for (auto [key, field] : {std::pair{"architecture", &s.architecture}, {"shape", &s.shape}, {"trajectory", &s.trajectory}}) {
    const auto it = ck.metadata().find(key);
    GANDER_CHECK(it != ck.metadata().end(), path, ": not a gander run checkpoint (no '", key, "')");
    *field = it->second;
  }
  GANDER_CHECK(s.architecture == expect.architecture && s.shape == expect.shape, path, ": a checkpoint of a ",
               s.architecture, " ", s.shape, " model; this run trains a ", expect.architecture, " ", expect.shape);
  GANDER_CHECK(s.trajectory == expect.trajectory, path,
               ": written by a run with other model/data/optimizer settings (fingerprint ", s.trajectory, ", this "
               "configuration ", expect.trajectory, "); resume with the configuration that started the run");
  GANDER_CHECK(s.step >= 0 && adam_steps >= 0, path, ": negative step counts");
  size_t expected = 0;
  for (const AdamWTarget& t : opt.targets())
    for (const char* kind : {"value/", "adam_m/", "adam_v/"}) {
      const std::string name = kind + t.name;
      const Tensor* x = ck.find(name);
      GANDER_CHECK(x, path, ": missing tensor '", name, "' (the checkpoint trains other parameters)");
      GANDER_CHECK(x->dtype() == DType::F32 && x->shape() == t.value->shape(), path, ": tensor '", name, "' is ",
                   x->describe(), ", expected f32 ", shape_str(t.value->shape()));
      ++expected;
    }
  GANDER_CHECK(ck.size() == expected, path, ": ", ck.size(), " tensors, expected ", expected,
               " (the checkpoint trains other parameters)");
  for (AdamWTarget& t : opt.targets()) {
    t.value->copy_from(*ck.find("value/" + t.name));
    const float* m = ck.find("adam_m/" + t.name)->data<float>();
    const float* v = ck.find("adam_v/" + t.name)->data<float>();
    std::copy(m, m + t.m.size(), t.m.begin());
    std::copy(v, v + t.v.size(), t.v.begin());
  }
  opt.set_steps(adam_steps);
  return s;
}

}  // namespace gander::train
