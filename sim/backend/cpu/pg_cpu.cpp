// pg_cpu.cpp — one RLOO policy-gradient step of the categorical log-linear policy on the CPU, in double: per prompt
// (one OpenMP task each, its own gradient slot) log-softmax, inverse-CDF sampling, rewards, leave-one-out
// advantages and phi^T (coef - sum(coef) pi); the slots summed in prompt order.
// Contract: see ops.h (pg_rloo_gradient); the sampling scheme and sums of the engine's policy_gradient (rloo, k1
// in the reward; the policy always renormalized, so a sample may differ where a uniform falls within rounding of a
// CDF boundary); identical at any thread count.
#include <cmath>
#include <stdexcept>
#include <vector>

#include "sim/backend/ops.h"

namespace goodhart {

void pg_rloo_gradient_cpu(const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad) {
  const int P = static_cast<int>(in.proxy->rows()), K = static_cast<int>(in.proxy->cols());
  const int d = static_cast<int>(in.features->cols()), G = in.num_generations;
  if (G < 2) throw std::invalid_argument("pg_rloo_gradient: rloo needs num_generations >= 2");
  const double count = static_cast<double>(P) * G;
  std::vector<Eigen::VectorXd> slot(P);
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p) {
    const auto phi = in.features->middleRows(static_cast<Eigen::Index>(p) * K, K).cast<double>();
    // log pi = log_softmax(log_ref + phi theta)
    Eigen::VectorXd log_pi = in.log_ref->row(p).transpose() + phi * theta;
    const double m = log_pi.maxCoeff();
    log_pi.array() -= m + std::log((log_pi.array() - m).exp().sum());
    const Eigen::VectorXd pi = log_pi.array().exp();
    // samples by inverse CDF, rewards with the k1 KL estimate
    CounterRng rng(in.seed, Stream::policy_samples, static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(p));
    std::vector<int> chosen(G);
    Eigen::VectorXd reward(G);
    for (int i = 0; i < G; ++i) {
      const double u = rng.uniform();
      double cumulative = 0.0;
      chosen[i] = K - 1;
      for (int k = 0; k < K; ++k)
        if (u < (cumulative += pi(k))) {
          chosen[i] = k;
          break;
        }
      const int k = chosen[i];
      reward(i) = (*in.proxy)(p, k) - in.kl_coef * (log_pi(k) - (*in.log_ref)(p, k));
    }
    // leave-one-out advantages, d loss / d log pi(k), then through the features
    const double sum = reward.sum();
    Eigen::VectorXd coef = Eigen::VectorXd::Zero(K);
    for (int i = 0; i < G; ++i) coef(chosen[i]) += -(reward(i) - (sum - reward(i)) / (G - 1.0)) / count;
    slot[p] = phi.transpose() * (coef - coef.sum() * pi);
  }
  grad = Eigen::VectorXd::Zero(d);
  for (int p = 0; p < P; ++p) grad += slot[p];
}

}  // namespace goodhart
