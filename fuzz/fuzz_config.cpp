// A Hugging Face config.json read as JsonConfig::load reads one, then checked as a Qwen2 config:
// any text gives a Config or a gander::Error.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/hf_config.h"
#include "models/qwen2/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return 0;  // JsonConfig::load refuses these with an Error
  try {
    const gander::qwen2::Config c = gander::qwen2::Config::from_json(gander::io::JsonConfig(std::move(j), "fuzz"));
    (void)c.describe();
  } catch (const gander::Error&) {
  }
  return 0;
}
