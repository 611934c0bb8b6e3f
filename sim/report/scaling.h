// scaling.h — `goodhart scaling`: Gao et al. 2022's coefficient plots as numbers. Each curve's best-of-n fit
// (alpha_bon, beta_bon, its fitted peak) and empirical peak are regressed on log10 of the proxy's parameters and
// log10 of the preference pairs, across the curves of one results folder.
// Contract:
//   curves     every curve of DIR (curves.h) with a finite proxy_parameters, grouped by optimizer name.
//   regressors log10(proxy_parameters) and log10(preferences.n_pairs) (a swept key, else constant), each kept when
//              it takes at least two values among a group's curves; seeds and other swept keys are pooled.
//   fit        for each target (bon_alpha, bon_beta, the fitted peak bon_peak_sqrt_kl = alpha / (2 beta) and
//              bon_peak_gold = alpha^2 / (4 beta) where beta > 0, the empirical peak_sqrt_kl and peak_gold)
//              ordinary least squares of the target on [1, kept regressors] over the curves where it is finite;
//              slope = change per decade, se = sqrt(s^2 (X'X)^-1) with s^2 = RSS / (n - p) (NaN when n = p),
//              r2 = 1 - RSS / TSS of that fit. Fewer curves than coefficients, or a singular design: no row.
//   output     scaling.csv (optimizer, target, regressor, slope, se, r2, curves), written atomically to `out`;
//              a table on `table` unless quiet.
//   errors     no curve with proxy_parameters (noisy or scored proxies, or an older folder), or no regressor that
//              varies: std::invalid_argument naming the folder and what is missing.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace goodhart {

struct ScalingSlope {
  std::string optimizer, target, regressor;  // regressor: log10_parameters | log10_pairs
  double slope = 0.0, se = 0.0, r2 = 0.0;
  int curves = 0;
};

// ordinary least squares of y on [1, x columns]: coefficients (intercept first), their standard errors and R^2;
// false when there are fewer rows than coefficients or the design is singular
bool least_squares(const std::vector<std::vector<double>>& x, const std::vector<double>& y, std::vector<double>& beta,
                   std::vector<double>& se, double& r2);

std::vector<ScalingSlope> scaling_slopes(const std::filesystem::path& dir);

// scaling_slopes(dir), written to out/scaling.csv and printed
std::vector<ScalingSlope> scaling_report(const std::filesystem::path& dir, const std::filesystem::path& out, bool quiet,
                                         std::ostream& table);

}  // namespace goodhart
