// rank_stats.h — the statistics a leaderboard reads off curves: linear interpolation along a sorted curve, the
// mean and standard error of a sample, average ranks and Spearman's rho (the one implementation; Python reads its
// results from leaderboard.json).
// Contract: NaN in, NaN skipped where said; nothing here knows about files or optimizers.
#pragma once

#include <limits>
#include <span>
#include <vector>

namespace goodhart {

// linear interpolation of y at x = at along points sorted by x (ascending); NaN outside [x.front(), x.back()],
// for fewer than one point, or where a bracketing y is NaN; an exact match of x returns its (first) y
double interpolate_sorted(std::span<const double> x, std::span<const double> y, double at);

// 1-based ranks with ties given the average of the ranks they span
std::vector<double> average_ranks(std::span<const double> v);

// Spearman's rho: the Pearson correlation of the average ranks of the pairs where neither value is NaN;
// NaN with fewer than 3 such pairs or when either side is constant
double spearman(std::span<const double> x, std::span<const double> y);

struct Estimate {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double se = std::numeric_limits<double>::quiet_NaN();  // sd / sqrt(n), sd with n - 1; NaN with one value
};

// the mean and standard error of the values that are not NaN (both NaN when none are)
Estimate aggregate(const std::vector<double>& values);

}  // namespace goodhart
