// fdiv_ref.cpp — reference f-divergence-regularized optimum: double, plain loops, one prompt and one beta at a
// time; lambda by bisection until the bracket stops shrinking (no Newton, no warm start), then pi = pi_ref w
// renormalized in double.
// Contract: the oracle fdiv_sweep_cpu and fdiv_sweep_cuda are tested against; see ops.h for the outputs.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/backend/ops.h"

namespace goodhart {

void fdiv_sweep_ref(Divergence d, const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  const FloatMatrixView& log_ref = in.log_ref;
  const FloatMatrixView& proxy = in.proxy;
  const int P = static_cast<int>(proxy.rows()), K = static_cast<int>(proxy.cols());
  const int V = static_cast<int>(in.values.size());
  out.prompts = P;
  out.betas = static_cast<int>(betas.size());
  out.columns = tilt_first_value + V;
  out.data.assign(static_cast<std::size_t>(P) * out.betas * out.columns, 0.0);
  std::vector<double> q(K), w(K);
  for (int p = 0; p < P; ++p) {
    // pi_ref normalized in double; the proxy's range over possible candidates
    double lmax = -INFINITY, mass = 0.0, rmin = INFINITY, rmax = -INFINITY;
    bool finite = true;
    for (int k = 0; k < K; ++k) lmax = std::max(lmax, static_cast<double>(log_ref(p, k)));
    for (int k = 0; k < K; ++k) mass += q[k] = std::exp(log_ref(p, k) - lmax);
    for (int k = 0; k < K; ++k) {
      q[k] /= mass;
      if (q[k] == 0.0) continue;
      finite = finite && std::isfinite(proxy(p, k));
      rmin = std::min(rmin, static_cast<double>(proxy(p, k)));
      rmax = std::max(rmax, static_cast<double>(proxy(p, k)));
    }
    for (int b = 0; b < out.betas; ++b) {
      const double beta = betas[b];
      const auto ratios = [&](double lambda) {  // w at lambda and E_ref[w] - 1
        double excess = -1.0, slope;
        for (int k = 0; k < K; ++k) {
          w[k] = q[k] > 0.0 ? fdiv_ratio(d, (proxy(p, k) - lambda) / beta, slope) : 0.0;
          excess += q[k] * w[k];
        }
        return excess;
      };
      double lo = rmin - beta * fdiv_unit_x(d), hi = rmax - beta * fdiv_unit_x(d);
      while (finite && lo < hi) {
        const double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        (ratios(mid) > 0.0 ? lo : hi) = mid;
      }
      ratios(finite ? 0.5 * (lo + hi) : NAN);
      double total = 0.0;
      for (int k = 0; k < K; ++k) total += q[k] * w[k];
      double kl = 0.0, entropy = 0.0, sum_sq = 0.0;
      for (int k = 0; k < K; ++k) {
        const double pi = q[k] * w[k] / total;
        if (!(pi != 0.0)) {  // 0 log 0 = 0; a NaN pi makes the sums NaN below
          if (std::isnan(pi)) kl = entropy = sum_sq = NAN;
          continue;
        }
        kl += pi * std::log(w[k] / total);
        entropy -= pi * std::log(pi);
        sum_sq += pi * pi;
        for (int v = 0; v < V; ++v) out.at(p, b, tilt_first_value + v) += pi * in.values[v](p, k);
      }
      if (std::isnan(kl))
        for (int v = 0; v < V; ++v) out.at(p, b, tilt_first_value + v) = NAN;
      out.at(p, b, tilt_kl) = std::isnan(kl) ? kl : std::max(kl, 0.0);
      out.at(p, b, tilt_entropy) = entropy;
      out.at(p, b, tilt_ess) = 1.0 / sum_sq;
    }
  }
}

}  // namespace goodhart
