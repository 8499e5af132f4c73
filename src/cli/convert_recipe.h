// `gander convert RECIPE.yaml`'s run of a RADLADS recipe, shared with `gander demo`: the steps
// with their progress lines, a line per finished step (student perplexity, ratio to the
// teacher's, tokens, time, tokens/s), the report table at the end and the steps' loss curves as
// OUT/curves.png.
#pragma once
#include "radlads/conversion.h"

namespace gander::cli {

radlads::ConversionReport run_recipe(const radlads::Recipe& recipe, bool resume);

// The table of a conversion report on standard output.
void print_report(const radlads::ConversionReport& report);

}  // namespace gander::cli
