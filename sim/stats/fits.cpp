// fits.cpp — least squares without intercept for Gao's two forms, gold = alpha x1 - beta x2 with x1 = d.
// Contract: x2 = d^2 (best-of-n) or d log d (RL); 2x2 normal equations in double; singular when det is tiny.
#include "sim/stats/fits.h"

#include <cmath>
#include <stdexcept>

namespace goodhart {
namespace {

void check_sizes(std::span<const double> d, std::span<const double> gold) {
  if (d.size() != gold.size()) throw std::invalid_argument("fits: d and gold differ in length");
}

bool usable(double d, double g) { return d > 0.0 && std::isfinite(d) && std::isfinite(g); }

// fit gold = alpha d - beta x2(d); fills alpha, beta, r2 (peaks are the caller's)
template <class X2>
GaoFit fit_no_intercept(std::span<const double> d, std::span<const double> gold, X2 x2) {
  check_sizes(d, gold);
  // accumulate the normal equations and the moments of the used gold values
  double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0, sy = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (!usable(d[i], gold[i])) continue;
    const double a = d[i], b = -x2(d[i]), y = gold[i];
    s11 += a * a; s12 += a * b; s22 += b * b;
    s1y += a * y; s2y += b * y; sy += y;
    ++n;
  }
  GaoFit fit;
  if (n < 2) return fit;
  // solve by Cramer's rule; a determinant lost in round-off means collinear regressors
  const double det = s11 * s22 - s12 * s12;
  if (!(std::abs(det) > 1e-12 * s11 * s22)) return fit;
  fit.alpha = (s22 * s1y - s12 * s2y) / det;
  fit.beta = (s11 * s2y - s12 * s1y) / det;
  // r2 about the mean of the used gold values
  const double mean = sy / static_cast<double>(n);
  double ss_res = 0, ss_tot = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (!usable(d[i], gold[i])) continue;
    const double r = gold[i] - (fit.alpha * d[i] - fit.beta * x2(d[i]));
    ss_res += r * r;
    ss_tot += (gold[i] - mean) * (gold[i] - mean);
  }
  if (ss_tot > 0) fit.r2 = 1.0 - ss_res / ss_tot;
  return fit;
}

// the fitted peak, unless out of double range (NaN, as for no peak)
void keep_finite_peak(GaoFit& fit, double peak_sqrt_kl, double peak_gold) {
  if (!std::isfinite(peak_sqrt_kl) || !std::isfinite(peak_gold)) return;
  fit.peak_sqrt_kl = peak_sqrt_kl;
  fit.peak_gold = peak_gold;
}

}  // namespace

GaoFit fit_gao_bon(std::span<const double> d, std::span<const double> gold) {
  GaoFit fit = fit_no_intercept(d, gold, [](double x) { return x * x; });
  // d (alpha - beta d) peaks at alpha / (2 beta) when beta > 0 (a tiny beta: out of double range, no peak)
  if (fit.beta > 0) keep_finite_peak(fit, fit.alpha / (2 * fit.beta), fit.alpha * fit.alpha / (4 * fit.beta));
  return fit;
}

GaoFit fit_gao_rl(std::span<const double> d, std::span<const double> gold) {
  GaoFit fit = fit_no_intercept(d, gold, [](double x) { return x * std::log(x); });
  // d (alpha - beta log d) peaks where alpha - beta (log d + 1) = 0 when beta > 0 (a tiny beta: out of double
  // range, no peak: a gold curve that is straight in d)
  if (fit.beta > 0) {
    const double peak_sqrt_kl = std::exp(fit.alpha / fit.beta - 1);
    keep_finite_peak(fit, peak_sqrt_kl, fit.beta * peak_sqrt_kl);
  }
  return fit;
}

EmpiricalPeak empirical_peak(std::span<const double> d, std::span<const double> gold) {
  check_sizes(d, gold);
  EmpiricalPeak peak;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    if (std::isnan(gold[i])) continue;
    if (std::isnan(peak.gold) || gold[i] > peak.gold) peak = {d[i], gold[i], i};  // strict: the first maximum wins
  }
  return peak;
}

}  // namespace goodhart
