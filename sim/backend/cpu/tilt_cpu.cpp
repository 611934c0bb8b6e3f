// tilt_cpu.cpp — fast exact tilt over all prompts and betas: float arrays and sums (Eigen's vectorized exp and
// reductions), one prompt per OpenMP task, each result written to its own slot. Contract: same outputs as
// tilt_sweep_ref within float rounding (relative ~1e-5); identical at any thread count (no cross-thread sums).
#include <algorithm>
#include <cmath>

#include "sim/backend/ops.h"

namespace goodhart {

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
      pi = (t - tmax).exp();
      const float z = pi.sum();
      const float log_z = tmax + std::log(z);
      pi *= 1.0f / z;
      // log pi - log pi_ref = centered / beta - log_z; 0 * log 0 = 0 since pi underflows only where t is finite
      out.at(p, b, tilt_kl) = std::max(0.0f, (pi * (centered * inv_beta - log_z)).sum());
      out.at(p, b, tilt_entropy) = -(pi * (t - log_z)).sum();
      out.at(p, b, tilt_ess) = 1.0 / static_cast<double>(pi.square().sum());
      for (int v = 0; v < V; ++v) out.at(p, b, tilt_first_value + v) = (pi * in.values[v]->row(p).transpose().array()).sum();
    }
  }
}

}  // namespace goodhart
