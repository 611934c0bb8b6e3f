// policy_gradient.h — a policy trained against the proxy by REINFORCE, RLOO, PPO or GRPO (policy_gradient.cpp,
// whose header states the algorithm in full).
// Contract: one row per evaluation (param_name "step"), the first at step 0.
#pragma once

#include <string>
#include <vector>

#include "sim/optimizers/optimizer.h"
#include "sim/optimizers/training.h"

namespace goodhart {

struct PolicyGradientConfig : TrainingConfig {
  std::string algorithm = "rloo";      // reinforce | rloo | ppo | grpo
  int num_generations = 8;             // sampled responses per prompt and step
  double kl_coef = 0.05;               // KL coefficient, the initial value when adaptive
  bool adaptive_kl = false;            // Ziegler et al. 2019 controller
  double adaptive_kl_target = 1.0;     // target KL of the controller
  double adaptive_kl_horizon = 10000;  // horizon in sampled responses
  std::string kl_estimator = "k1";     // k1 | k2 | k3, per-sample estimators of KL(pi || pi_ref)
  std::string kl_in = "reward";        // reward (penalty in the reward) | loss (a KL term in the loss)
  double max_kl = 0.0;                 // a hard KL budget: stop once the exact KL reaches it; 0: none
  double cliprange = 0.2;              // ppo and grpo: ratio clip
  int num_ppo_epochs = 4;              // ppo and grpo: passes over each batch
  int num_mini_batches = 1;            // ppo and grpo: minibatches per pass
  bool whiten_rewards = false;         // standardize the batch's rewards before advantages
  double reward_clip = 0.0;            // clip proxy rewards to [-reward_clip, reward_clip]; 0: no clipping
  std::string reward_transform = "none";  // none | par | log_sigmoid_centered (reward_transform.h)
  int reference_responses = 1;         // par, log_sigmoid_centered: pi_ref responses per prompt
  double reference_quantile = 0.85;    // log_sigmoid_centered: the centering quantile of the references
};

std::vector<MetricRow> run_policy_gradient(const PolicyGradientConfig& opt, const OptimizerContext& ctx);

}  // namespace goodhart
