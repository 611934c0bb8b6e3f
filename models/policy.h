// policy.h — the policies trained by policy_gradient and dpo.
// Categorical world: `tabular` (a free logit offset per prompt and candidate) or `log_linear` (one shared head,
// pi_theta(k|p) ∝ pi_ref(k|p) exp(theta . phi[p,k]), which generalizes across prompts as a real model does).
// Gaussian world: `mean_shift`, pi_theta = N(mu + delta, diag((s * exp(rho))^2)) with rho = 0 unless learn_scale.
// Contract: theta = 0 is pi_ref exactly; log-probabilities are exact and normalized (log-sum-exp); every
// gradient is of log pi_theta(sample) with respect to theta, checked against finite differences in the tests.
#pragma once

#include <cstdint>
#include <string>

#include <Eigen/Dense>

#include "models/world.h"

namespace goodhart {

// one sampled response: a candidate of a prompt (categorical) or a feature vector (gaussian)
struct PolicySample {
  int prompt = 0;
  int candidate = -1;  // categorical world
  Eigen::VectorXd y;   // gaussian world
};

class Policy {
 public:
  enum class Kind { tabular, log_linear, mean_shift };

  // kind from the optimizer's `policy` key ("auto" picks log_linear or mean_shift by world)
  Policy(const World& world, const std::string& kind, bool learn_scale);

  Kind kind() const { return kind_; }
  int parameters() const { return static_cast<int>(theta_.size()); }
  const Eigen::VectorXd& theta() const { return theta_; }
  void set_theta(const Eigen::VectorXd& theta) { theta_ = theta; }

  // categorical: normalized log pi_theta(.|prompt) over the K candidates
  Eigen::VectorXd log_probs(int prompt) const;
  // log pi_theta(sample) and log pi_ref(sample) (densities in the gaussian world)
  double log_prob(const PolicySample& s) const;
  double log_ref(const PolicySample& s) const;
  // grad += weight * d log pi_theta(sample) / d theta
  void add_grad_log_prob(const PolicySample& s, double weight, Eigen::VectorXd& grad) const;

  // the parameters that prompt's distribution depends on: theta[first, first + count) (tabular: its own block
  // of K; otherwise all), so per-prompt gradients can be kept in disjoint or per-prompt slots
  int block_first(int prompt) const;
  int block_size() const;
  // categorical: block += sum_k coef(k) * d log pi_theta(k|prompt) / d theta[block], with log_probs(prompt)
  // given (one pass for all of a prompt's samples)
  void add_grad_candidates(int prompt, const Eigen::VectorXd& log_probs, const Eigen::VectorXd& coef,
                           Eigen::Ref<Eigen::VectorXd> block) const;
  // mean KL over prompts (exact)
  double mean_kl() const;

  // exact KL(pi_theta(.|prompt) || pi_ref(.|prompt)): a sum over candidates, or the closed form for gaussians
  double kl(int prompt) const;

  // a draw from pi_theta(.|prompt): the candidate by inverse CDF on rng.uniform(), or mu + delta + scale * z
  PolicySample sample(int prompt, CounterRng& rng) const;
  // categorical: the same draw given pi = exp(log_probs(prompt)), computed once for many draws of one prompt
  PolicySample sample_from_probs(int prompt, const Eigen::VectorXd& pi, CounterRng& rng) const;

  // gaussian world: the policy's mean and standard deviation per dimension
  Eigen::VectorXd mean() const;
  Eigen::VectorXd scale() const;

 private:
  const World* world_;
  Kind kind_;
  bool learn_scale_ = false;
  Eigen::VectorXd theta_;
};

}  // namespace goodhart
