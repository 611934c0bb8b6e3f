// fits.h — Gao et al. (2022) no-intercept fits of gold against d = sqrt(KL), and the empirical peak of a curve.
// Contract: fits use the points with d > 0 and finite values; fewer than 2 or a singular system give all NaN.
#pragma once

#include <cstddef>
#include <limits>
#include <span>

namespace goodhart {

// one fitted curve: the coefficients, R^2 about the mean of the used gold values, and the fitted maximum
struct GaoFit {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  double alpha = nan;
  double beta = nan;
  double r2 = nan;            // NaN when the used gold values are all equal
  double peak_sqrt_kl = nan;  // d* where the fitted curve peaks; NaN when it has none (beta <= 0) in double range
  double peak_gold = nan;     // fitted gold at d*
};

// best-of-n form: gold = d (alpha - beta d); d and gold of different lengths throw std::invalid_argument
GaoFit fit_gao_bon(std::span<const double> d, std::span<const double> gold);
// RL form: gold = d (alpha - beta log d); same contract
GaoFit fit_gao_rl(std::span<const double> d, std::span<const double> gold);

// the observed maximum of a curve (first on ties, NaN gold skipped); NaN fields and index 0 when there is none
struct EmpiricalPeak {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  double sqrt_kl = nan;
  double gold = nan;
  std::size_t index = 0;
};

EmpiricalPeak empirical_peak(std::span<const double> d, std::span<const double> gold);

}  // namespace goodhart
