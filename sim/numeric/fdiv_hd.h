// fdiv_hd.h — the f-divergences a regularized optimum can use, and the density ratio each one's optimum takes:
// D_f(pi || pi_ref) = E_ref[f(pi / pi_ref)], and the maximizer of E_pi[r] - beta D_f has pi / pi_ref =
// w(x) = max(0, (f')^-1(x)) at x = (r - lambda) / beta, lambda fixed by E_ref[w] = 1.
//   kl:      f(z) = z log z                     f'(z) = log z + 1   w = exp(x - 1)
//   chi2:    f(z) = (z - 1)^2 / 2               f'(z) = z - 1       w = max(0, 1 + x)   (clipped: zero below -1)
//   chi2_kl: f(z) = (z - 1)^2 / 2 + z log z     f'(z) = z + log z   w = phi^-1(x), phi(z) = z + log z, w > 0
// chi2_kl is Huang et al. 2024's mixed regularizer (chi-squared plus KL, "Correcting the Mythos of
// KL-Regularization"); chi2 its chi-squared part alone.
// Contract: host and device (GOODHART_HD), double throughout; fdiv_ratio is exact to ~1 ulp of w (Newton on log w
// for chi2_kl, from a start that converges monotonically after at most one step).
#pragma once

#include <cmath>

#include "sim/numeric/host_device.h"

namespace goodhart {

enum class Divergence { kl, chi2, chi2_kl };

// w = pi / pi_ref at x = (r - lambda) / beta, and dw/dx (0 where chi2 clips)
GOODHART_HD inline double fdiv_ratio(Divergence d, double x, double& dw_dx) {
  if (d == Divergence::kl) {
    const double w = exp(x - 1.0);
    dw_dx = w;
    return w;
  }
  if (d == Divergence::chi2) {
    dw_dx = x > -1.0 ? 1.0 : 0.0;
    return x > -1.0 ? 1.0 + x : 0.0;
  }
  // u = log w solves e^u + u = x: a convex increasing function of u, so Newton converges monotonically from above;
  // u <= log x for x > 1 (e^u = x - u < x), and from below (u >= x - 1 for x <= 1) one step lands above
  double u = x > 1.0 ? log(x) : x - 1.0;
  for (int it = 0; it < 100; ++it) {
    const double e = exp(u), step = (e + u - x) / (e + 1.0);
    u -= step;
    if (fabs(step) <= 1e-15 * (1.0 + fabs(u))) break;
  }
  const double w = exp(u);
  dw_dx = w / (1.0 + w);  // 1 / phi'(w), phi'(w) = 1 + 1 / w
  return w;
}

// f(w), the divergence's integrand
GOODHART_HD inline double fdiv_f(Divergence d, double w) {
  const double w_log_w = w > 0.0 ? w * log(w) : 0.0;
  if (d == Divergence::kl) return w_log_w;
  const double chi = 0.5 * (w - 1.0) * (w - 1.0);
  return d == Divergence::chi2 ? chi : chi + w_log_w;
}

// the bracket [lo, hi] of lambda in which E_ref[w] - 1 changes sign, from the proxy's range over possible
// responses: w = 1 exactly where f'(1) = x, so lambda = r - beta f'(1) gives w >= 1 at r_min and <= 1 at r_max
GOODHART_HD inline double fdiv_unit_x(Divergence d) { return d == Divergence::chi2 ? 0.0 : 1.0; }

}  // namespace goodhart
