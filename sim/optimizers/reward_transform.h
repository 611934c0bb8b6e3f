// reward_transform.h — reward shaping of policy_gradient's proxy rewards against reference responses of the
// prompt: PAR (Fu et al. 2025, "Reward Shaping to Mitigate Reward Hacking in RLHF") and log-sigmoid-centered
// (Wang et al. 2024, "Transforming and Combining Rewards", the calibrated log transform InfAlign builds on).
// Contract: the references are M = reference_responses pi_ref responses per prompt, drawn once per run from
// CounterRng(seed, reward_references, prompt, m) and scored by the proxy (clipped like the rewards):
//   none                  r
//   par                   (1/M) sum_m sigmoid(r - r_ref_m)
//   log_sigmoid_centered  log sigmoid(r - q_p), q_p the reference_quantile of the prompt's M reference rewards
//                         (linear interpolation between order statistics, numpy's default)
// Both are increasing in r; par is bounded in (0, 1), log_sigmoid_centered above by 0.
#pragma once

#include <string>
#include <vector>

#include "sim/optimizers/optimizer.h"

namespace goodhart {

enum class RewardTransform { none, par, log_sigmoid_centered };
RewardTransform parse_reward_transform(const std::string& name);  // throws std::invalid_argument

// the empirical q-quantile of values (sorted in place), linear between order statistics (numpy's default)
double empirical_quantile(std::vector<double>& values, double q);

class RewardShaping {
 public:
  // draws and scores the references (none: nothing); clip(r) is applied to each reference reward
  template <class Clip>
  RewardShaping(RewardTransform transform, int references, double quantile, const OptimizerContext& ctx, Clip clip)
      : transform_(transform) {
    if (transform == RewardTransform::none) return;
    references_ = reference_rewards(ctx, references);
    for (auto& row : references_)
      for (double& r : row) r = clip(r);
    if (transform == RewardTransform::log_sigmoid_centered)
      for (auto& row : references_) centers_.push_back(empirical_quantile(row, quantile));
  }

  // the shaped reward of a response to `prompt` whose (clipped) proxy reward is r
  double operator()(int prompt, double r) const;

  // prompt p's reference rewards (sorted for log_sigmoid_centered)
  const std::vector<double>& references(int prompt) const { return references_[prompt]; }

  // M pi_ref responses per prompt scored by the proxy: row p holds prompt p's
  static std::vector<std::vector<double>> reference_rewards(const OptimizerContext& ctx, int references);

 private:
  RewardTransform transform_;
  std::vector<std::vector<double>> references_;
  std::vector<double> centers_;
};

}  // namespace goodhart
