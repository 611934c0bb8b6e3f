// tilt_cpu.cpp — fast exact tilt over all prompts and betas: float arrays (Eigen's vectorized exp), one prompt
// per OpenMP task, each result written to its own slot. Contract: same outputs as tilt_sweep_ref within float
// rounding (relative ~1e-5); identical at any thread count (no cross-thread reductions).
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
    Eigen::ArrayXf t(K), log_pi(K), pi(K);
    for (int b = 0; b < out.betas; ++b) {
      // t = log pi_ref + (proxy - max proxy) / beta <= 0, then log-sum-exp
      t = lr + centered * static_cast<float>(1.0 / betas[b]);
      const float tmax = t.maxCoeff();
      pi = (t - tmax).exp();
      const double z = pi.cast<double>().sum();
      log_pi = t - static_cast<float>(tmax + std::log(z));
      pi = pi * static_cast<float>(1.0 / z);
      const Eigen::ArrayXd pid = pi.cast<double>();
      // 0 * log 0 = 0: pi underflows only where log_pi is very negative and finite
      const double kl = (pid * (log_pi - lr).cast<double>()).sum();
      out.at(p, b, tilt_kl) = std::max(kl, 0.0);
      out.at(p, b, tilt_entropy) = -(pid * log_pi.cast<double>()).sum();
      out.at(p, b, tilt_ess) = 1.0 / pid.square().sum();
      for (int v = 0; v < V; ++v)
        out.at(p, b, tilt_first_value + v) = (pid * in.values[v]->row(p).transpose().array().cast<double>()).sum();
    }
  }
}

}  // namespace goodhart
