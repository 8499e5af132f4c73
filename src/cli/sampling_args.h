// Sampling options shared by generate and chat.
#pragma once
#include <CLI/CLI.hpp>

#include "generate/sampler.h"

namespace gander::cli {
void add_sampling_options(CLI::App* cmd, SamplingParams& p);
}  // namespace gander::cli
