#include "models/rwkv7/config.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "models/shape_spec.h"

namespace gander::rwkv7 {

int64_t Config::parameter_count() const {
  const int64_t C = n_embd;
  return 2 * vocab * C + 4 * C +
         n_layer * (19 * C + 4 * C * C + 2 * C * dim_ffn + 2 * C * (rank_w + rank_a + rank_v + rank_g));
}

std::string Config::describe() const {
  return concat("L", n_layer, " D", n_embd, " H", n_head, " V", vocab, " F", dim_ffn, " lora w", rank_w, " a", rank_a,
                " v", rank_v, " g", rank_g);
}

namespace {
// The LoRA-rank rule of the released World models (training code before 2025-07-06).
int64_t rank_rule(double factor, double power, int64_t C) {
  return std::max<int64_t>(32, int64_t(std::lround(factor * std::pow(double(C), power) / 32.0)) * 32);
}
}  // namespace

Config Config::parse_shape(const std::string& spec) {
  Config c;
  for (const auto& [key, v] : parse_shape_items(spec)) {
    if (key == "L") c.n_layer = v;
    else if (key == "D" || key == "C") c.n_embd = v;
    else if (key == "V") c.vocab = v;
    else if (key == "F") c.dim_ffn = v;
    else if (key == "W") c.rank_w = v;
    else if (key == "A") c.rank_a = v;
    else if (key == "Vr") c.rank_v = v;
    else if (key == "G") c.rank_g = v;
    else fail("model shape '", spec, "': unknown key '", key, "' (use L, D, V, F, W, A, Vr, G)");
  }
  GANDER_CHECK(c.n_layer && c.n_embd && c.vocab, "model shape '", spec, "' needs at least L, D and V");
  GANDER_CHECK(c.n_embd % kHeadSize == 0, "model shape '", spec, "': D must be a multiple of ", kHeadSize);
  c.n_head = c.n_embd / kHeadSize;
  if (!c.dim_ffn) c.dim_ffn = 4 * c.n_embd;
  if (!c.rank_w) c.rank_w = rank_rule(1.8, 0.5, c.n_embd);
  if (!c.rank_a) c.rank_a = rank_rule(1.8, 0.5, c.n_embd);
  if (!c.rank_v) c.rank_v = rank_rule(1.3, 0.5, c.n_embd);
  if (!c.rank_g) c.rank_g = c.n_embd == 1024 ? 128 : rank_rule(0.6, 0.8, c.n_embd);  // the 0.4B exception
  return c;
}

}  // namespace gander::rwkv7
