// policy.h — the policies trained by policy_gradient and dpo, each needing a capability of the world (world.h).
// A world with candidates: `tabular` (a free logit offset per prompt and candidate) or `log_linear` (one shared
// head, pi_theta(k|p) ∝ pi_ref(k|p) exp(theta . phi[p,k]), which generalizes across prompts as a real model does).
// A gaussian pi_ref: `mean_shift`, pi_theta = N(mu + delta, diag((s * exp(rho))^2)) with rho = 0 unless learn_scale.
// Contract: theta = 0 is pi_ref exactly; log-probabilities are exact and normalized (log-sum-exp); every
// gradient is of log pi_theta(sample) with respect to theta, checked against finite differences in the tests.
// The categorical training step runs on the backend instead (table(): sim/backend/ops.h's policy_pass and
// policy_slots, float products on the CPU), agreeing with log_probs to float rounding.
#pragma once

#include <cstdint>
#include <string>

#include <Eigen/Dense>

#include "models/worlds/world.h"
#include "sim/backend/ops.h"

namespace goodhart {

class Policy {
 public:
  enum class Kind { tabular, log_linear, mean_shift };

  // kind from the optimizer's `policy` key ("auto": log_linear given candidates, else mean_shift); a kind the
  // world lacks the capability for throws std::invalid_argument
  Policy(const World& world, const std::string& kind, bool learn_scale);

  Kind kind() const { return kind_; }
  int parameters() const { return static_cast<int>(theta_.size()); }
  const Eigen::VectorXd& theta() const { return theta_; }
  void set_theta(const Eigen::VectorXd& theta);

  // categorical: normalized log pi_theta(.|prompt) over the K candidates
  Eigen::VectorXd log_probs(int prompt) const;
  // log pi_theta(sample) and log pi_ref(sample) (densities in the gaussian world)
  double log_prob(const Response& s) const;
  double log_ref(const Response& s) const;
  // grad += weight * d log pi_theta(sample) / d theta
  void add_grad_log_prob(const Response& s, double weight, Eigen::Ref<Eigen::VectorXd> grad) const;

  // the parameters that prompt's distribution depends on: theta[first, first + count) (tabular: its own block
  // of K; otherwise all), so per-prompt gradients can be kept in disjoint or per-prompt slots
  int block_first(int prompt) const;
  int block_size() const;
  // categorical: block += sum_k coef(k) * d log pi_theta(k|prompt) / d theta[block], with log_probs(prompt)
  // given (one pass for all of a prompt's samples)
  void add_grad_candidates(int prompt, const Eigen::VectorXd& log_probs, const Eigen::VectorXd& coef,
                           Eigen::Ref<Eigen::VectorXd> block) const;
  // categorical: the candidate table for the backend's training ops (ops.h), its device copy kept with it
  const PolicyTable& table() const { return table_; }
  // mean KL over prompts (exact)
  double mean_kl() const;

  // exact KL(pi_theta(.|prompt) || pi_ref(.|prompt)): a sum over candidates, or the closed form for gaussians
  double kl(int prompt) const;

  // a draw from pi_theta(.|prompt): the candidate by inverse CDF on rng.uniform(), or mu + delta + scale * z
  Response sample(int prompt, CounterRng& rng) const;
  // gaussian world: the policy's mean and standard deviation per dimension
  Eigen::VectorXd mean() const;
  Eigen::VectorXd scale() const;

 private:
  const World* world_;
  const Candidates* candidates_;     // tabular, log_linear
  const GaussianReference* ref_;     // mean_shift
  Kind kind_;
  bool learn_scale_ = false;
  Eigen::VectorXd theta_;
  PolicyTable table_;  // tabular, log_linear
};

}  // namespace goodhart
