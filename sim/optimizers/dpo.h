// dpo.h — the pieces of DPO and IPO training (sim/optimizers/dpo.cpp), declared for the tests that check them.
// Contract: run_dpo (optimizer.h) is the entry point; these are its steps, pure functions of their arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "models/policy.h"
#include "models/preferences.h"
#include "sim/scenario/config.h"

namespace goodhart {

namespace dpo_detail {

// the policy's view of preference pairs: side a and b of each pair, categorical (prompt, candidate) recovered by
// replaying make_preference_pairs' draw (checked against the pairs' features), gaussian y = the features
void pair_samples(const World& world, const PreferencePairs& pairs, std::uint64_t seed, Stream pair_stream,
                  std::vector<PolicySample>& a, std::vector<PolicySample>& b);

// the mean loss over the pairs listed in `batch` (label 1: a preferred); grad (when given) is set to its gradient
double batch_loss(const Policy& policy, const std::vector<PolicySample>& a, const std::vector<PolicySample>& b,
                  const Eigen::VectorXd& label, const std::vector<int>& batch, double beta, bool ipo,
                  Eigen::VectorXd* grad);

// trains `policy` in place from its current theta; on_eval(step) at step 0, every eval_every steps and the last
void train(Policy& policy, const std::vector<PolicySample>& a, const std::vector<PolicySample>& b,
           const Eigen::VectorXd& label, const OptimizerConfig& opt, double beta, std::uint64_t seed,
           const std::function<void(int)>& on_eval);

// the same, stopping after an evaluation for which on_eval(step) returns false
void train_until(Policy& policy, const std::vector<PolicySample>& a, const std::vector<PolicySample>& b,
                 const Eigen::VectorXd& label, const OptimizerConfig& opt, double beta, std::uint64_t seed,
                 const std::function<bool(int)>& on_eval);

// fraction of pairs whose implicit reward difference beta h(a, b) has the sign of the label (ties, |h| <= 1e-10,
// count 1/2)
double implicit_accuracy(const Policy& policy, const std::vector<PolicySample>& a, const std::vector<PolicySample>& b,
                         const Eigen::VectorXd& label, double beta);

}  // namespace dpo_detail

}  // namespace goodhart
