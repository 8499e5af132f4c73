// The YAML files a user writes: a training run (train::parse_run_config) when the first byte is
// even, a RADLADS recipe (radlads::parse_recipe) when it is odd. The text runs to the first NUL;
// each NUL-separated piece after it is a --set override. Any bytes give a config or a
// gander::Error, never a crash or a yaml-cpp exception that escapes.
#include <string>
#include <vector>

#include "core/error.h"
#include "radlads/recipe.h"
#include "train/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool recipe = data[0] & 1;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t end = rest.find('\0');
  const std::string yaml = rest.substr(0, end);
  std::vector<std::string> overrides;
  for (size_t at = end; at != std::string::npos && at < rest.size();) {
    const size_t next = rest.find('\0', at + 1);
    overrides.push_back(rest.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  try {
    if (recipe) {
      const gander::radlads::Recipe r = gander::radlads::parse_recipe(yaml, "fuzz.yaml", overrides);
      (void)r.steps.size();
    } else {
      const gander::train::RunConfig c = gander::train::parse_run_config(yaml, "fuzz.yaml", overrides);
      (void)gander::train::run_key_value(c, "optimizer.lr");
    }
  } catch (const gander::Error&) {
  }
  return 0;
}
