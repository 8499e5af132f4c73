#include "cli/sampling_args.h"

namespace gander::cli {
void add_sampling_options(CLI::App* cmd, SamplingParams& p) {
  cmd->add_option("--temperature", p.temperature, "Sampling temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-p", p.top_p, "Nucleus cut-off (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-k", p.top_k, "Keep only the k most likely tokens (0 = off)")->capture_default_str();
  cmd->add_option("--presence-penalty", p.presence_penalty, "Penalty for tokens already generated")->capture_default_str();
  cmd->add_option("--frequency-penalty", p.frequency_penalty, "Penalty per (decayed) occurrence")->capture_default_str();
  cmd->add_option("--penalty-decay", p.penalty_decay, "Decay of the occurrence counts per token")->capture_default_str();
  cmd->add_option("--ban", p.banned, "Token ids that are never sampled");
  cmd->add_option("--seed", p.seed, "Random seed")->capture_default_str();
}
}  // namespace gander::cli
