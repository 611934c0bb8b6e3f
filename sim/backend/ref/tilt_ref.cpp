// tilt_ref.cpp — reference exact tilt pi_beta ∝ pi_ref exp(proxy / beta): double, plain loops, one prompt and
// one beta at a time; KL against pi_ref renormalized in double (exact to ~1e-16 for beta up to 1e6).
// Contract: the oracle tilt_sweep_cpu is tested against; see ops.h for the outputs.
#include <algorithm>
#include <cmath>

#include "sim/backend/ops.h"

namespace goodhart {

void tilt_sweep_ref(const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  const FloatMatrixView& log_ref = in.log_ref;
  const FloatMatrixView& proxy = in.proxy;
  const int P = static_cast<int>(proxy.rows()), K = static_cast<int>(proxy.cols());
  const int V = static_cast<int>(in.values.size());
  out.prompts = P;
  out.betas = static_cast<int>(betas.size());
  out.columns = tilt_first_value + V;
  out.data.assign(static_cast<std::size_t>(P) * out.betas * out.columns, 0.0);
  std::vector<double> t(K);
  for (int p = 0; p < P; ++p) {
    // log of the sum of pi_ref: float log_ref sums to 1 only within ~1e-7, which would floor every small KL
    double lmax = -INFINITY, l0 = 0.0;
    for (int k = 0; k < K; ++k) lmax = std::max(lmax, static_cast<double>(log_ref(p, k)));
    for (int k = 0; k < K; ++k) l0 += std::exp(log_ref(p, k) - lmax);
    const double log_ref_sum = lmax + std::log(l0);
    // the largest proxy among possible candidates: log_ref differences must survive next to (proxy - pmax) / beta
    double pmax = -INFINITY;
    for (int k = 0; k < K; ++k)
      if (log_ref(p, k) > -INFINITY) pmax = std::max(pmax, static_cast<double>(proxy(p, k)));
    for (int b = 0; b < out.betas; ++b) {
      // t_k = log pi_ref + (proxy - pmax) / beta: at most 0 where possible, no overflow for any beta
      double tmax = -INFINITY;
      for (int k = 0; k < K; ++k) {
        // an impossible candidate stays impossible, whatever its proxy (even inf)
        t[k] = log_ref(p, k) > -INFINITY ? log_ref(p, k) + (proxy(p, k) - pmax) / betas[b] : -INFINITY;
        tmax = std::max(tmax, t[k]);
      }
      double z = 0.0;
      for (int k = 0; k < K; ++k) z += std::exp(t[k] - tmax);
      const double log_norm = tmax + std::log(z);
      double kl = 0.0, entropy = 0.0, sum_sq = 0.0;
      for (int k = 0; k < K; ++k) {
        const double log_pi = t[k] - log_norm, pi = std::exp(log_pi);
        if (pi == 0.0) continue;
        kl += pi * (log_pi - log_ref(p, k) + log_ref_sum);  // against the normalized pi_ref
        entropy -= pi * log_pi;
        sum_sq += pi * pi;
        for (int v = 0; v < V; ++v) out.at(p, b, tilt_first_value + v) += pi * in.values[v](p, k);
      }
      out.at(p, b, tilt_kl) = std::max(kl, 0.0);
      out.at(p, b, tilt_entropy) = entropy;
      out.at(p, b, tilt_ess) = 1.0 / sum_sq;
    }
  }
}

}  // namespace goodhart
