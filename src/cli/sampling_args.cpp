#include "cli/sampling_args.h"

#include "models/registry.h"

namespace gander::cli {

void SamplingArgs::add_to(CLI::App* cmd) {
  const std::string group =
      "Sampling (defaults: RWKV-7 the official pipeline's; Qwen2 the folder's generation_config.json, as transformers "
      "reads it). Order: RWKV-7 penalties > softmax > top-p > top-k > min-p > temperature; Qwen2 penalties > "
      "temperature > top-k > top-p > min-p. --temperature 0 is greedy: the plain argmax, no penalties";
  temperature_ = cmd->add_option("--temperature", given_.temperature, "Sampling temperature (0 = greedy)")->group(group);
  top_p_ = cmd->add_option("--top-p", given_.top_p, "Nucleus cut-off (0 = greedy after the penalties)")->group(group);
  top_k_ = cmd->add_option("--top-k", given_.top_k, "Keep only the k most likely tokens (0 = off)")->group(group);
  min_p_ = cmd->add_option("--min-p", given_.min_p, "Drop tokens less than min-p times as likely as the likeliest (0 = off)")
               ->group(group);
  presence_ = cmd->add_option("--presence-penalty", given_.presence_penalty, "Subtracted from generated tokens' logits")
                  ->group(group);
  frequency_ = cmd->add_option("--frequency-penalty", given_.frequency_penalty,
                               "Subtracted per (decayed) occurrence of a generated token")
                   ->group(group);
  decay_ = cmd->add_option("--penalty-decay", given_.penalty_decay, "Decay of the occurrence counts per token")->group(group);
  repetition_ = cmd->add_option("--repetition-penalty", given_.repetition_penalty,
                                "transformers' penalty on every token in the context: logits divided (or, if negative, "
                                "multiplied) by it (1 = off)")
                    ->group(group);
  ban_ = cmd->add_option("--ban", given_.banned, "Token ids that are never sampled (repeatable)")->group(group);
  seed_ = cmd->add_option("--seed", given_.seed, "Random seed (default 0)")->group(group);
}

SamplingDefaults SamplingArgs::resolve(const Runner& model, const std::string& model_path, bool chat) const {
  SamplingDefaults d = sampling_defaults(models::architecture_named(model.architecture()).sampling, model_path, chat);
  SamplingParams& p = d.params;
  if (temperature_->count()) p.temperature = given_.temperature;
  if (top_p_->count()) p.top_p = given_.top_p;
  if (top_k_->count()) p.top_k = given_.top_k;
  if (min_p_->count()) p.min_p = given_.min_p;
  if (presence_->count()) p.presence_penalty = given_.presence_penalty;
  if (frequency_->count()) p.frequency_penalty = given_.frequency_penalty;
  if (decay_->count()) p.penalty_decay = given_.penalty_decay;
  if (repetition_->count()) p.repetition_penalty = given_.repetition_penalty;
  if (ban_->count()) p.banned = given_.banned;
  if (seed_->count()) p.seed = given_.seed;
  p.validate();
  return d;
}

}  // namespace gander::cli
