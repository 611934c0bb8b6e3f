// soft_best_of_n.h — soft best-of-n (Verdun et al. 2025): draw n responses from pi_ref, return one with probability
// softmax(proxy / temperature) among them, for a grid of n (soft_best_of_n.cpp).
// Contract: one row per n, in grid order, param_name "n". The exact distribution over a world's candidates
// (categorical); otherwise the unbiased estimate over random partitions of one pool per prompt, with KL from the
// pool's empirical distribution.
#pragma once

#include <vector>

#include "sim/optimizers/optimizer.h"

namespace goodhart {

struct SoftBestOfNConfig {
  std::vector<int> n = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};  // the grid
  double temperature = 0.1;            // lambda: selection probability ∝ exp(proxy / lambda) among the n drawn
  int pool = 4096;                     // gaussian world: pi_ref draws per prompt (>= max n)
  int partitions = 16;                 // gaussian world: random partitions of the pool into groups of n
};

std::vector<MetricRow> run_soft_best_of_n(const SoftBestOfNConfig& opt, const OptimizerContext& ctx);

namespace soft_bon_detail {

// the exact soft best-of-n distribution over K responses with pi_ref probabilities q (summing to 1) and proxy r:
// P(k) = n q_k e_k Integral_0^inf exp(-t e_k) M(t)^(n-1) dt, e = exp((r - max r) / temperature),
// M(t) = sum_j q_j exp(-t e_j) (E[e_k / (e_k + S)] for S the sum of the other n - 1 draws' e, by
// 1/x = Integral exp(-t x) dt), by the trapezoid rule in log t (spacing 1/4: error below 1e-12 for these smooth,
// double-exponentially decaying integrands). Returns the sum of P before renormalization (1 up to quadrature).
double distribution(const std::vector<double>& q, const std::vector<float>& r, int n, double temperature,
                    std::vector<double>& out);

// one pool's selection weights: for each of `partitions` random partitions of the N responses into N / n groups of
// n (the rest left out), each group's softmax(proxy / temperature), averaged: sum_i w_i f_i is an unbiased estimate
// of the soft best-of-n expectation of f
void pool_weights(const float* proxy, int N, int n, double temperature, int partitions, CounterRng& rng,
                  std::vector<double>& w);

}  // namespace soft_bon_detail

}  // namespace goodhart
