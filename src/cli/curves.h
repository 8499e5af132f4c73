// Training curves as a picture (PLplot, cairo): the runs of metrics.jsonl files overlaid, train
// loss thin, validation loss bold, the learning rate below, against tokens. `gander plot` draws
// them; `gander convert RECIPE` and `gander demo` draw their steps' curves with it.
#pragma once
#include <string>
#include <vector>

namespace gander::cli {

// Writes `out` (.png or .svg) atomically; a run is named by the folder its metrics.jsonl sits in.
void draw_curves(const std::vector<std::string>& metrics_files, const std::string& out);

}  // namespace gander::cli
