// policy_ref.cpp — reference training pass and gradient slots of the categorical policies: double, plain loops,
// one prompt at a time: logits log_ref + offset, log-softmax, inverse-CDF draws by a linear scan per uniform,
// E_pi[d logit / d theta] and the slots as written in ops.h.
// Contract: the oracle policy_pass_cpu / policy_slots_cpu and their cuda twins are tested against (see ops.h).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "sim/backend/ops.h"
#include "sim/numeric/philox_hd.h"

namespace goodhart {

namespace {

// d logit(k|p) / d theta[block](j): [j == k] (tabular) or phi[p,k](j)
double logit_derivative(const PolicyTable& t, int p, int k, int j) {
  if (t.tabular) return j == k ? 1.0 : 0.0;
  return static_cast<double>((*t.features)(static_cast<Eigen::Index>(p) * t.candidates() + k, j));
}

}  // namespace

void policy_pass_ref(const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r, PolicyPass& out) {
  const int K = t.candidates(), B = t.block_size();
  if (theta.size() != t.parameters()) throw std::invalid_argument("policy_pass_ref: theta of the wrong size");
  out.prompts.clear();
  for (int p = 0; p < t.prompts(); ++p) out.prompts.push_back(p);
  if (r.prompts) out.prompts = *r.prompts;
  const int R = static_cast<int>(out.prompts.size());
  if (r.draws > 0) out.chosen.resize(R, r.draws);
  const int G = static_cast<int>(out.chosen.cols());
  out.log_prob.resize(R, G);
  if (r.mean_feature) out.mean_feature.resize(B, R);
  std::vector<double> log_pi(K), pi(K);
  for (int row = 0; row < R; ++row) {
    const int p = out.prompts[static_cast<std::size_t>(row)];
    bool zero = true;
    for (int j = 0; j < B; ++j) zero = zero && theta(t.block_first(p) + j) == 0.0;
    double m = -INFINITY;
    for (int k = 0; k < K; ++k) {
      double l = (*t.log_ref)(p, k);
      if (!zero)
        for (int j = 0; j < B; ++j) l += logit_derivative(t, p, k, j) * theta(t.block_first(p) + j);
      log_pi[k] = l;
      m = std::max(m, l);
    }
    if (!zero) {
      double mass = 0.0;
      for (int k = 0; k < K; ++k) mass += std::exp(log_pi[k] - m);
      const double log_z = m + std::log(mass);
      for (int k = 0; k < K; ++k) log_pi[k] -= log_z;
    }
    for (int k = 0; k < K; ++k) pi[k] = std::exp(log_pi[k]);
    if (r.draws > 0) {
      CounterRng rng(r.seed, Stream::policy_samples, static_cast<std::uint32_t>(r.step), static_cast<std::uint32_t>(p));
      for (int i = 0; i < G; ++i) {
        const double u = rng.uniform();
        double cumulative = 0.0;
        int chosen = -1;
        for (int k = 0; k < K && chosen < 0; ++k)
          if (u < (cumulative += pi[k])) chosen = k;
        if (chosen < 0)  // the rounding left u past the end: the last possible candidate
          for (int k = K - 1; k >= 0 && chosen < 0; --k)
            if (pi[k] > 0.0) chosen = k;
        out.chosen(row, i) = chosen;
      }
    }
    for (int i = 0; i < G; ++i) out.log_prob(row, i) = log_pi[out.chosen(row, i)];
    if (!r.mean_feature) continue;
    for (int j = 0; j < B; ++j) {
      double s = 0.0;
      for (int k = 0; k < K; ++k) s += pi[k] * logit_derivative(t, p, k, j);
      out.mean_feature(j, row) = s;
    }
  }
}

void policy_slots_ref(const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                      bool with_mean, Eigen::MatrixXd& slots) {
  const int R = static_cast<int>(pass.prompts.size()), B = t.block_size();
  slots = Eigen::MatrixXd::Zero(B, R);
  for (int row = 0; row < R; ++row) {
    const int p = pass.prompts[static_cast<std::size_t>(row)];
    double coef_sum = 0.0;
    for (int i = first; i < last; ++i) coef_sum += coef(row, i);
    for (int j = 0; j < B; ++j) {
      double s = 0.0;
      for (int i = first; i < last; ++i) s += coef(row, i) * logit_derivative(t, p, pass.chosen(row, i), j);
      if (with_mean) s -= coef_sum * pass.mean_feature(j, row);
      slots(j, row) = s;
    }
  }
}

}  // namespace goodhart
