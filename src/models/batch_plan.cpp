#include "models/batch_plan.h"

namespace gander::models {

std::vector<PassPlan> plan_passes(std::span<const int64_t> lengths, int64_t chunk) {
  std::vector<PassPlan> passes;
  PassPlan open;
  int64_t rows = 0;
  auto close = [&] {
    if (open.count > 0) passes.push_back(open);
    open = PassPlan{};
    rows = 0;
  };
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] > chunk) {
      close();
      passes.push_back({i, 1, true});
      continue;
    }
    if (rows + lengths[i] > chunk) close();
    if (open.count == 0) open.first = i;
    ++open.count;
    rows += lengths[i];
  }
  close();
  return passes;
}

}  // namespace gander::models
