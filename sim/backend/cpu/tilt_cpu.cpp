// tilt_cpu.cpp — fast exact tilt over all prompts and betas: float arrays and sums (Eigen's vectorized exp and
// reductions), one prompt per OpenMP task, each result written to its own slot. KL and entropy carry a float
// error of ~1e-7 (1 + |max t|); where that would exceed ~1e-4 of the KL (large beta: small KL; tiny beta with
// pi_ref's mass far from the proxy's maximum: |t| ~ 1e6) they are recomputed in double against the renormalized
// pi_ref. Contract: same outputs as tilt_sweep_ref within float rounding (relative ~1e-5); identical at any
// thread count (no cross-thread sums).
#include <algorithm>
#include <cmath>

#include "sim/backend/ops.h"

namespace goodhart {

namespace {

// KL(pi_beta || pi_ref) and the entropy of pi_beta in double, pi_ref renormalized (float log_ref sums to 1 only
// within ~1e-7); 0 log 0 = 0, also where log_ref is -inf
void kl_entropy_double(const Eigen::ArrayXf& lr, const Eigen::ArrayXf& centered, double beta, double& kl,
                       double& entropy) {
  const Eigen::ArrayXd l = lr.cast<double>(), s = centered.cast<double>() / beta, t = l + s;
  const double lmax = l.maxCoeff(), log_ref_sum = lmax + std::log((l - lmax).exp().sum());
  const double tmax = t.maxCoeff(), log_z = tmax + std::log((t - tmax).exp().sum());
  const Eigen::ArrayXd pi = (t - log_z >= -708.0).select((t - log_z).exp(), 0.0);  // see the float loop below
  kl = std::max(0.0, (pi * (s - (log_z - log_ref_sum))).sum());
  entropy = -(pi > 0.0).select(pi * (t - log_z), 0.0).sum();
}

}  // namespace

void tilt_sweep_cpu(const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  const RowMatrixXf& log_ref = *in.log_ref;
  const RowMatrixXf& proxy = *in.proxy;
  const int P = static_cast<int>(proxy.rows()), K = static_cast<int>(proxy.cols());
  const int V = static_cast<int>(in.values.size());
  out.prompts = P;
  out.betas = static_cast<int>(betas.size());
  out.columns = tilt_first_value + V;
  out.data.assign(static_cast<std::size_t>(P) * out.betas * out.columns, 0.0);
#pragma omp parallel for schedule(dynamic, 16)
  for (int p = 0; p < P; ++p) {
    const Eigen::ArrayXf lr = log_ref.row(p).transpose().array();
    const Eigen::ArrayXf centered = proxy.row(p).transpose().array() - proxy.row(p).maxCoeff();
    Eigen::ArrayXf t(K), pi(K);
    for (int b = 0; b < out.betas; ++b) {
      // t = log pi_ref + (proxy - max proxy) / beta <= 0, then log-sum-exp (Eigen's vectorized exp and sums)
      const float inv_beta = static_cast<float>(1.0 / betas[b]);
      t = lr + centered * inv_beta;
      const float tmax = t.maxCoeff();
      // Eigen's vectorized exp returns ~3e-39, not 0, below -88 (also for -inf): such weights are set to 0, as
      // std::exp's underflow would, so a -inf log_ref or a |t| of 1e38 cannot reach the sums as 3e-39 * inf
      pi = (t - tmax >= -87.0f).select((t - tmax).exp(), 0.0f);
      const float z = pi.sum();
      const float log_z = tmax + std::log(z);
      pi *= 1.0f / z;
      // log pi - log pi_ref = centered / beta - log_z; 0 log 0 = 0: zero weights are skipped (t may be -inf there)
      double kl = std::max(0.0f, (pi > 0.0f).select(pi * (centered * inv_beta - log_z), 0.0f).sum());
      double entropy = -(pi > 0.0f).select(pi * (t - log_z), 0.0f).sum();
      if (kl < 1e-3 * (1.0 + std::abs(tmax))) kl_entropy_double(lr, centered, betas[b], kl, entropy);
      out.at(p, b, tilt_kl) = kl;
      out.at(p, b, tilt_entropy) = entropy;
      out.at(p, b, tilt_ess) = 1.0 / static_cast<double>(pi.square().sum());
      for (int v = 0; v < V; ++v) out.at(p, b, tilt_first_value + v) = (pi * in.values[v]->row(p).transpose().array()).sum();
    }
  }
}

}  // namespace goodhart
