// pessimism.h — InferenceTimePessimism (Huang, Block et al. 2025, "Is Best-of-N the Best of Them?"): the
// chi-squared-regularized rejection sampler over N pi_ref draws, for a grid of N (pessimism.cpp).
// Contract: one row per N, in grid order, param_name "n"; a world whose candidates are pi_ref's support only.
#pragma once

#include <vector>

#include "sim/optimizers/optimizer.h"

namespace goodhart {

struct PessimismConfig {
  std::vector<int> n = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};  // N, the grid
  double beta = 0.5;                   // the chi-squared regularization
  int draws = 64;                      // Monte Carlo draws of the N responses that set lambda, per prompt and N
};

std::vector<MetricRow> run_pessimism(const PessimismConfig& opt, const OptimizerContext& ctx);

namespace pessimism_detail {

// lambda of N drawn rewards: (1/N) sum_i max(0, (r_i - lambda) / beta) = 1 (exact: the active set by sorting)
double empirical_lambda(std::vector<double> rewards, double beta);

// the sampler's output distribution over K candidates (pi_ref q, proxy r, largest proxy r_max) given lambda: N
// fresh draws, each accepted with probability w / M, w = max(0, (r - lambda) / beta), M = (r_max - lambda) / beta,
// the first accepted returned, else one more pi_ref draw: P(k) = q_k [a_k (1 - (1 - a)^N) / a + (1 - a)^N],
// a_k = w_k / M = max(0, r - lambda) / (r_max - lambda) (beta cancels), a = sum_k q_k a_k; added, times `weight`,
// to out
void add_output_distribution(const std::vector<double>& q, const std::vector<double>& r, double r_max, double lambda,
                             int N, double weight, std::vector<double>& out);

}  // namespace pessimism_detail

}  // namespace goodhart
