// dpo.h — DPO, IPO and chiPO on the scenario's preference pairs (sim/optimizers/dpo.cpp): the entry point, and its steps,
// declared for the tests that check them.
// Contract: run_dpo is the entry point; the dpo_detail functions are its steps, pure functions of their arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "models/policy.h"
#include "models/preferences.h"
#include "sim/optimizers/optimizer.h"
#include "sim/optimizers/training.h"

namespace goodhart {

struct DpoConfig : TrainingConfig {
  std::vector<double> beta = {0.1};    // DPO's beta, one training run per value
  std::string loss_type = "sigmoid";   // sigmoid (DPO) | ipo | chi_po (Huang et al. 2024)
  double r_max = 0.0;                  // chi_po: clip beta (phi(w) - phi(l)) to [-2 r_max, 2 r_max]; 0: no clip
  int batch_size = 64;                 // pairs per step
};

// a policy trained on the preference pairs (no proxy): one row per evaluation, for each beta in turn
std::vector<MetricRow> run_dpo(const DpoConfig& opt, const OptimizerContext& ctx);

namespace dpo_detail {

// the policy's view of preference pairs, from the identities the pairs carry: side a and b of each pair as
// (prompt, candidate), or (prompt, y = the features) in a world without candidates
void pair_samples(const PreferencePairs& pairs, std::vector<Response>& a, std::vector<Response>& b);

// the mean loss over the pairs listed in `batch` (label 1: a preferred), of opt.loss_type at `beta`; grad (when
// given) is set to its gradient.
// In a world with candidates the pairs' log-probabilities and gradients are the backend ops policy_pass and
// policy_slots (one row per pair, its two candidates); Backend::ref computes them in double (the gradient test)
double batch_loss(const Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
                  const Eigen::VectorXd& label, const std::vector<int>& batch, const DpoConfig& opt, double beta,
                  Eigen::VectorXd* grad, Backend backend);

// trains `policy` in place from its current theta; on_eval(step) at step 0, every eval_every steps and the last
void train(Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
           const Eigen::VectorXd& label, const DpoConfig& opt, double beta, std::uint64_t seed, Backend backend,
           const std::function<void(int)>& on_eval);

// the same, stopping after an evaluation for which on_eval(step) returns false
void train_until(Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
                 const Eigen::VectorXd& label, const DpoConfig& opt, double beta, std::uint64_t seed,
                 Backend backend, const std::function<bool(int)>& on_eval);

// fraction of pairs whose implicit reward difference beta h(a, b) has the sign of the label (ties, |h| <= 1e-10,
// count 1/2)
double implicit_accuracy(const Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
                         const Eigen::VectorXd& label, double beta);

}  // namespace dpo_detail

}  // namespace goodhart
