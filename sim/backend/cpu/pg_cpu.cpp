// pg_cpu.cpp — one RLOO policy-gradient step of the categorical log-linear policy on the CPU: per prompt one fused
// pass that reads the prompt's K x d float features once (32 KB at K = 256, d = 32: cache-resident): offsets
// phi theta by a float matvec, log-softmax (float exponentials, double logits and sum), the G draws by one walk of
// the CDF over the sorted uniforms, rewards, leave-one-out advantages, and the prompt's gradient from the drawn
// candidates' feature rows. Each thread a fixed range of prompts, each prompt its own slot; the slots summed in
// prompt order.
// Contract: see ops.h (pg_rloo_gradient). The baseline term -(sum_i c_i) E_pi[phi] of phi^T (coef - sum(coef) pi)
// is left out: leave-one-out advantages sum to zero, so it is zero up to rounding. Agrees with pg_rloo_gradient_ref
// to float rounding (tests/test_backend.cpp states the tolerance), with the same samples but where a uniform falls
// within float rounding of a CDF boundary; identical at any thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sim/numeric/cdf_walk.h"
#include "sim/backend/ops.h"

namespace goodhart {

void pg_rloo_gradient_cpu(const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad) {
  const int P = static_cast<int>(in.proxy->rows()), K = static_cast<int>(in.proxy->cols());
  const int d = static_cast<int>(in.features->cols()), G = in.num_generations;
  if (G < 2) throw std::invalid_argument("pg_rloo_gradient: rloo needs num_generations >= 2");
  if (in.features->rows() != static_cast<Eigen::Index>(P) * K || in.log_ref->rows() != P ||
      in.log_ref->cols() != K || theta.size() != d)
    throw std::invalid_argument("pg_rloo_gradient: expected features P*K x d, log_ref P x K and theta of d");
  const double count = static_cast<double>(P) * G;
  const Eigen::VectorXf theta_f = theta.cast<float>();
  Eigen::MatrixXd slots(d, P);  // column p: prompt p's gradient
#pragma omp parallel
  {
    // per-thread scratch, allocated once per call
    Eigen::VectorXf offset(K), weight(K);
    Eigen::VectorXd logits(K), reward(G);
    std::vector<std::pair<double, int>> targets(G);  // (u * mass, draw index), sorted
    std::vector<int> chosen(G);
    // a fixed contiguous range of prompts per thread, so that its features stay in the core's cache from step to
    // step, walked backwards on odd steps so that the prompts touched last come first
    const int threads = omp_get_num_threads(), id = omp_get_thread_num();
    const int lo = static_cast<int>(static_cast<long long>(P) * id / threads);
    const int hi = static_cast<int>(static_cast<long long>(P) * (id + 1) / threads);
    for (int n = lo; n < hi; ++n) {
      const int p = step % 2 ? lo + hi - 1 - n : n;
      const Eigen::Map<const RowMatrixXf> phi(in.features->data() + static_cast<std::size_t>(p) * K * d, K, d);
      // log pi = logits - log_z, logits = log_ref + phi theta (raw pointers: the conversion loop vectorizes);
      // weight = exp(logits - max), unnormalized pi (cdf_walk.h)
      offset.noalias() = phi * theta_f;
      const double* log_ref = in.log_ref->data() + static_cast<std::size_t>(p) * K;
      const float* o = offset.data();
      double* l = logits.data();
#pragma omp simd
      for (int k = 0; k < K; ++k) l[k] = log_ref[k] + static_cast<double>(o[k]);
      const double m = logits.maxCoeff();
      const double mass = float_weights(logits, m, weight);
      const float* w = weight.data();
      const double log_z = m + std::log(mass);
      // draws: the uniforms scaled by the mass, sorted, by one walk of the cumulative weights (cdf_walk.h)
      CounterRng rng(in.seed, Stream::policy_samples, static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(p));
      for (int i = 0; i < G; ++i) targets[i] = {rng.uniform() * mass, i};
      std::sort(targets.begin(), targets.end());
      walk_cdf(w, K, targets, chosen);
      // rewards with the k1 KL estimate, leave-one-out advantages, sum_i c_i phi[k_i]
      for (int i = 0; i < G; ++i) {
        const int c = chosen[i];
        reward(i) = (*in.proxy)(p, c) - in.kl_coef * (logits(c) - log_z - (*in.log_ref)(p, c));
      }
      const double sum = reward.sum();
      double* slot = slots.col(p).data();
      std::fill(slot, slot + d, 0.0);
      for (int i = 0; i < G; ++i) {
        const double coef = -(reward(i) - (sum - reward(i)) / (G - 1.0)) / count;
        const float* row = phi.data() + static_cast<std::size_t>(chosen[i]) * d;
#pragma omp simd
        for (int j = 0; j < d; ++j) slot[j] += coef * static_cast<double>(row[j]);
      }
    }
  }
  grad = Eigen::VectorXd::Zero(d);
  for (int p = 0; p < P; ++p) grad += slots.col(p);
}

}  // namespace goodhart
