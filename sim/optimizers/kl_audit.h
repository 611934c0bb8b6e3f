// kl_audit.h — the KL-estimator gradient audit (`goodhart audit-kl`, docs/kl-estimators.md): for each way a trainer
// can put a per-sample KL estimate into its update, the exact expected gradient at policy states along a training
// trajectory, against the exact gradients of KL(pi || pi_ref), of the regularized objective and of the divergences
// the estimate might descend instead. Exact: a world with candidates is enumerated (no sampling anywhere).
// Contract (kl_audit.cpp states the formulas):
//   trajectory  the scenario's policy_gradient settings (policy, learning_rate, kl_coef = beta, steps, eval_every):
//               Adam from theta = 0 (= pi_ref) on the exact gradient of J = mean_p E_pi[r] - beta mean_p KL, r the
//               proxy; states theta_t at step 0, every eval_every steps and the last step.
//   behaviour   on-policy rows sample from the state audited (pi_old = pi); off-policy rows audit theta_{t+m} with
//               samples from theta_t, m = off_policy_steps (the updates a PPO minibatch is behind its samples).
//   configs     {k1, k2, k3} x {reward, loss} x correction {none, ratio, ratio_detached} (ratio = pi / pi_old with
//               its gradient, as autograd differentiates an importance-weighted estimate; ratio_detached = the same
//               weight held constant, loss only); on-policy keeps the distinct ones (reward/none, loss/none,
//               loss/ratio), off-policy all five per estimator.
//   rows        in state order, then on- before off-policy, then estimator, kl_in and correction as listed.
#pragma once

#include <string>
#include <vector>

#include <Eigen/Dense>

#include "models/worlds/world.h"
#include "sim/optimizers/optimizer.h"
#include "sim/optimizers/policy_gradient.h"

namespace goodhart {

struct KlAuditRow {
  int step = 0;              // the behaviour state theta_t
  int off_policy_steps = 0;  // 0: on-policy; m: the audited policy is theta_{t+m}
  std::string estimator, kl_in, correction;
  double kl = 0.0;             // exact mean KL(pi || pi_ref) of the audited policy
  double kl_reverse = 0.0;     // exact mean KL(pi_ref || pi)
  double kl_estimated = 0.0;   // the expectation of the estimate the trainer logs (its mean over the batch)
  double grad_kl_norm = 0.0;   // ||grad KL(pi || pi_ref)||
  double expected_grad_norm = 0.0;  // ||E[the configuration's KL gradient]||
  double cos_kl = 0.0, rel_err_kl = 0.0;                // against grad KL(pi || pi_ref); NaN at pi_ref
                                                        // (cos_kl also where descends is zero)
  double cos_objective = 0.0, rel_err_objective = 0.0;  // the whole update against grad J
  double variance_per_sample = 0.0;  // tr Cov of one sample's KL gradient, mean over prompts
  std::string descends;  // kl | reverse_kl | half_squared_log_ratio | kl_minus_reverse_kl |
                         // half_squared_log_ratio_minus_kl | zero | none ("" at pi = pi_ref, where all coincide)
};

// throws std::invalid_argument when the world has no candidates (Policy's own when the policy needs none)
std::vector<KlAuditRow> audit_kl(const PolicyGradientConfig& opt, const World& world, const ResponseTable& table,
                                 int off_policy_steps);

// the configurations' rows at one pair of states (step and off_policy_steps left 0): samples from behaviour_theta,
// the policy audited at audited_theta; on_policy (the two equal) keeps the distinct configurations
std::vector<KlAuditRow> audit_kl_at(const PolicyGradientConfig& opt, const World& world, const ResponseTable& table,
                                    const Eigen::VectorXd& behaviour_theta, const Eigen::VectorXd& audited_theta,
                                    bool on_policy);

// the audit's default m: the Adam updates PPO's last minibatch is behind its samples,
// num_ppo_epochs * num_mini_batches - 1, at least 1
int default_off_policy_steps(const PolicyGradientConfig& opt);

}  // namespace goodhart
