// cdf_walk.h — draws of candidates by inverse CDF for a batch of sorted targets: one walk of the cumulative
// weights, shared by the engine's policy (Policy::draw_candidates) and the policy-gradient op (pg_cpu).
// Contract: targets are (x, draw index) sorted by x, in the weights' units (a uniform times their sum); weights
// are >= 0 (0: impossible). Draw i gets the k with w[0] + ... + w[k-1] <= x < w[0] + ... + w[k], the sums taken
// in double in a fixed order (eight candidates at a time while their block ends at or below x), so the result
// never depends on how the caller stores the weights' type; an x that the rounding leaves at or past the end
// takes the last candidate of positive weight, never an impossible one.
#pragma once

#include <span>
#include <utility>

namespace goodhart {

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

}  // namespace goodhart
