// cdf_walk.h — draws of candidates by inverse CDF for a batch of sorted targets: one walk of the cumulative
// weights, shared by the policy's draws (models/policy.cpp) and the policy ops (backend/*/policy_*.cpp); and the
// float weights exp(logits - max) the CPU training pass normalizes.
// Contract: targets are (x, draw index) sorted by x, in the weights' units (a uniform times their sum); weights
// are >= 0 (0: impossible). Draw i gets the k with w[0] + ... + w[k-1] <= x < w[0] + ... + w[k], the sums taken
// in double in a fixed order (eight candidates at a time while their block ends at or below x), so the result
// never depends on how the caller stores the weights' type; an x that the rounding leaves at or past the end
// takes the last candidate of positive weight, never an impossible one.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "sim/numeric/philox_hd.h"

namespace goodhart {

// weight = exp(logits - m) in float (impossible candidates, logit -inf, exactly 0: Eigen's float exp clamps at
// e^-88); returns sum(weight) in double. Raw pointers: the conversion loops vectorize.
inline double float_weights(const Eigen::VectorXd& logits, double m, Eigen::VectorXf& weight) {
  const int K = static_cast<int>(logits.size());
  weight.resize(K);
  const double* l = logits.data();
  float* w = weight.data();
#pragma omp simd
  for (int k = 0; k < K; ++k) w[k] = static_cast<float>(l[k] - m);
  weight = weight.array().exp();
  for (int k = 0; k < K; ++k)
    if (l[k] == -INFINITY) w[k] = 0.0f;
  double mass = 0.0;
#pragma omp simd reduction(+ : mass)
  for (int k = 0; k < K; ++k) mass += static_cast<double>(w[k]);
  return mass;
}

template <class Weight>
void walk_cdf(const Weight* w, int K, std::span<const std::pair<double, int>> targets, std::span<int> chosen) {
  const auto at = [w](int k) { return static_cast<double>(w[k]); };
  int k = 0;
  double cumulative = at(0);
  for (const auto& [x, i] : targets) {
    while (k + 8 < K) {
      const double block = ((at(k + 1) + at(k + 2)) + (at(k + 3) + at(k + 4))) +
                           ((at(k + 5) + at(k + 6)) + (at(k + 7) + at(k + 8)));
      const double next = cumulative + block;
      if (x < next) break;
      cumulative = next;
      k += 8;
    }
    while (k < K - 1 && !(x < cumulative)) cumulative += at(++k);
    int c = k;
    while (c > 0 && !(at(c) > 0.0)) --c;
    chosen[i] = c;
  }
}

// candidates.size() draws from pi (K probabilities), draw i the first k whose cumulative pi exceeds the i-th
// rng.uniform() (else the last possible one): the uniforms sorted, then one walk of the CDF
inline void draw_candidates(const Eigen::VectorXd& pi, CounterRng& rng, std::span<int> candidates) {
  thread_local std::vector<std::pair<double, int>> draws;  // (uniform, draw index), sorted
  const int n = static_cast<int>(candidates.size()), K = static_cast<int>(pi.size());
  draws.resize(n);
  for (int i = 0; i < n; ++i) draws[i] = {rng.uniform(), i};
  std::sort(draws.begin(), draws.end());
  walk_cdf(pi.data(), K, draws, candidates);
}

}  // namespace goodhart
