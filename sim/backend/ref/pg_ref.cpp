// pg_ref.cpp — reference RLOO policy-gradient step of the categorical log-linear policy: double, plain loops, one
// prompt at a time: log-softmax, inverse-CDF sampling (a linear scan per draw), rewards, leave-one-out advantages
// and phi^T (coef - sum(coef) pi) as written in ops.h.
// Contract: the oracle pg_rloo_gradient_cpu and pg_rloo_gradient_cuda are tested against; see ops.h (pg_rloo_gradient).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "sim/backend/ops.h"

namespace goodhart {

void pg_rloo_gradient_ref(const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad) {
  const int P = static_cast<int>(in.proxy->rows()), K = static_cast<int>(in.proxy->cols());
  const int d = static_cast<int>(in.features->cols()), G = in.num_generations;
  if (G < 2) throw std::invalid_argument("pg_rloo_gradient: rloo needs num_generations >= 2");
  const double count = static_cast<double>(P) * G;
  grad = Eigen::VectorXd::Zero(d);
  std::vector<double> log_pi(K), pi(K), coef(K);
  std::vector<int> chosen(G);
  std::vector<double> reward(G);
  for (int p = 0; p < P; ++p) {
    const float* phi = in.features->data() + static_cast<std::size_t>(p) * K * d;
    // log pi = log_softmax(log_ref + phi theta)
    double m = -INFINITY;
    for (int k = 0; k < K; ++k) {
      double l = (*in.log_ref)(p, k);
      for (int j = 0; j < d; ++j) l += static_cast<double>(phi[k * d + j]) * theta(j);
      log_pi[k] = l;
      m = std::max(m, l);
    }
    double mass = 0.0;
    for (int k = 0; k < K; ++k) mass += std::exp(log_pi[k] - m);
    const double log_z = m + std::log(mass);
    for (int k = 0; k < K; ++k) pi[k] = std::exp(log_pi[k] -= log_z);
    // samples by inverse CDF, rewards with the k1 KL estimate
    CounterRng rng(in.seed, Stream::policy_samples, static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(p));
    double sum = 0.0;
    for (int i = 0; i < G; ++i) {
      const double u = rng.uniform();
      double cumulative = 0.0;
      chosen[i] = K - 1;
      for (int k = 0; k < K; ++k)
        if (u < (cumulative += pi[k])) {
          chosen[i] = k;
          break;
        }
      const int k = chosen[i];
      reward[i] = (*in.proxy)(p, k) - in.kl_coef * (log_pi[k] - (*in.log_ref)(p, k));
      sum += reward[i];
    }
    // leave-one-out advantages, d loss / d log pi(k), then through the features
    std::fill(coef.begin(), coef.end(), 0.0);
    for (int i = 0; i < G; ++i) coef[chosen[i]] += -(reward[i] - (sum - reward[i]) / (G - 1.0)) / count;
    double coef_sum = 0.0;
    for (int k = 0; k < K; ++k) coef_sum += coef[k];
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < d; ++j) grad(j) += static_cast<double>(phi[k * d + j]) * (coef[k] - coef_sum * pi[k]);
  }
}

}  // namespace goodhart
