// policy_cpu.cpp — the categorical policies' training pass and gradient slots on the CPU (ops.h: policy_pass,
// policy_slots). Per prompt one pass over its K x d float features while they are in cache: offsets phi theta by a
// float matvec (theta rounded to float once per call), logits in double, float exponentials normalized in double,
// the draws by one walk of the CDF over the sorted uniforms, and E_pi[phi] as a float matvec.
// Contract: see ops.h. Each thread a fixed contiguous range of prompts, walked backwards on odd steps so that the
// prompts it touched last come first (their features are still in its cache); parallel only above a work
// threshold (a training run calls these a few times per step, and a tiny region costs more than it saves); every
// prompt writes its own slots, so results are identical at any thread count.
#include <omp.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/backend/ops.h"
#include "sim/numeric/cdf_walk.h"

namespace goodhart {

namespace {

bool worth_threads(double work) { return work > 65536.0; }

// body(p) for the calling thread's prompts (see the header)
template <class Body>
void for_own_prompts(int P, int step, Body&& body) {
  const int threads = omp_get_num_threads(), id = omp_get_thread_num();
  const int lo = static_cast<int>(static_cast<long long>(P) * id / threads);
  const int hi = static_cast<int>(static_cast<long long>(P) * (id + 1) / threads);
  for (int n = lo; n < hi; ++n) body(step % 2 ? lo + hi - 1 - n : n);
}

void check_shapes(const PolicyTable& t, const Eigen::VectorXd& theta, const char* what) {
  if (!t.log_ref || (!t.tabular && (!t.features || t.features->rows() != static_cast<Eigen::Index>(t.prompts()) *
                                                                               t.candidates())))
    throw std::invalid_argument(std::string(what) + ": expected log_ref P x K and (log_linear) features P*K x d");
  if (theta.size() != t.parameters())
    throw std::invalid_argument(std::string(what) + ": theta has " + std::to_string(theta.size()) +
                                " entries, the policy " + std::to_string(t.parameters()));
}

// one prompt's pi_theta: log pi and pi in double, the normalized float weights in `weight`
struct PromptPass {
  Eigen::VectorXd log_probs, probs;
  Eigen::VectorXf weight, float_mean;
};

void prompt_pass(const PolicyTable& t, const Eigen::VectorXd& theta, const Eigen::VectorXf& theta_float, int p,
                 PromptPass& out) {
  const int K = t.candidates();
  out.log_probs = t.log_ref->row(p).transpose();
  const auto offset = theta.segment(t.block_first(p), t.block_size());
  if ((offset.array() == 0.0).all()) {  // pi_ref exactly
    out.probs = out.log_probs.array().exp();
    out.weight = out.probs.cast<float>();
    return;
  }
  double* logits = out.log_probs.data();
  if (t.tabular) {
    out.log_probs += offset;
  } else {
    const Eigen::Map<const RowMatrixXf> phi(t.features->data() + static_cast<std::size_t>(p) * K * t.dim(), K,
                                            t.dim());
    out.weight.noalias() = phi * theta_float;
    const float* offset_float = out.weight.data();
#pragma omp simd
    for (int k = 0; k < K; ++k) logits[k] += static_cast<double>(offset_float[k]);
  }
  const double m = out.log_probs.maxCoeff();
  const double mass = float_weights(out.log_probs, m, out.weight), inv_mass = 1.0 / mass;
  out.log_probs.array() -= m + std::log(mass);
  out.probs.resize(K);
  float* weight = out.weight.data();
  double* probs = out.probs.data();
#pragma omp simd
  for (int k = 0; k < K; ++k) probs[k] = static_cast<double>(weight[k]) * inv_mass;
  out.weight *= static_cast<float>(inv_mass);
}

// the rows' prompts: the given list (each checked), or every prompt in order
std::vector<int> pass_prompts(const PolicyTable& t, const PolicyPassRequest& r, const char* what) {
  std::vector<int> prompts;
  if (!r.prompts) {
    prompts.resize(static_cast<std::size_t>(t.prompts()));
    for (int p = 0; p < t.prompts(); ++p) prompts[static_cast<std::size_t>(p)] = p;
    return prompts;
  }
  for (int p : *r.prompts)
    if (p < 0 || p >= t.prompts())
      throw std::invalid_argument(std::string(what) + ": prompt " + std::to_string(p) + " out of range");
  return *r.prompts;
}

}  // namespace

void policy_pass_cpu(const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r, PolicyPass& out) {
  check_shapes(t, theta, "policy_pass");
  out.prompts = pass_prompts(t, r, "policy_pass");
  const int R = static_cast<int>(out.prompts.size()), K = t.candidates();
  if (r.draws > 0) {
    out.chosen.resize(R, r.draws);
  } else if (out.chosen.rows() != R) {
    throw std::invalid_argument("policy_pass: expected the given candidates as rows x G");
  }
  const int G = static_cast<int>(out.chosen.cols());
  out.log_prob.resize(R, G);
  if (r.mean_feature) out.mean_feature.resize(t.block_size(), R);
  const Eigen::VectorXf theta_float = t.tabular ? Eigen::VectorXf() : Eigen::VectorXf(theta.cast<float>());
  const double work = static_cast<double>(R) * K * (t.tabular ? 4.0 : 2.0 * t.dim() + G);
#pragma omp parallel if (worth_threads(work))
  {
    PromptPass pass;  // per thread
    for_own_prompts(R, r.step, [&](int row) {
      const int p = out.prompts[static_cast<std::size_t>(row)];
      prompt_pass(t, theta, theta_float, p, pass);
      if (r.draws > 0) {
        CounterRng rng(r.seed, Stream::policy_samples, static_cast<std::uint32_t>(r.step), static_cast<std::uint32_t>(p));
        draw_candidates(pass.probs, rng, {out.chosen.row(row).data(), static_cast<std::size_t>(G)});
      }
      for (int i = 0; i < G; ++i) out.log_prob(row, i) = pass.log_probs(out.chosen(row, i));
      if (!r.mean_feature) return;
      if (t.tabular) {
        out.mean_feature.col(row) = pass.probs;
        return;
      }
      const Eigen::Map<const RowMatrixXf> phi(t.features->data() + static_cast<std::size_t>(p) * K * t.dim(), K,
                                              t.dim());
      pass.float_mean.noalias() = phi.transpose() * pass.weight;
      out.mean_feature.col(row) = pass.float_mean.cast<double>();
    });
  }
}

void policy_slots_cpu(const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                      bool with_mean, Eigen::MatrixXd& slots) {
  const int R = static_cast<int>(pass.prompts.size()), B = t.block_size(), d = t.tabular ? 0 : t.dim();
  const int K = t.candidates();
  slots.resize(B, R);
  const double work = static_cast<double>(R) * (last - first) * (t.tabular ? 1.0 : d);
#pragma omp parallel for schedule(static) if (worth_threads(work))
  for (int row = 0; row < R; ++row) {
    const int p = pass.prompts[static_cast<std::size_t>(row)];
    double* slot = slots.col(row).data();
    std::fill(slot, slot + B, 0.0);
    double coef_sum = 0.0;
    for (int i = first; i < last; ++i) {
      const int k = pass.chosen(row, i);
      const double c = coef(row, i);
      if (t.tabular) {
        slot[k] += c;
      } else {
        const float* row_features = t.features->data() + (static_cast<std::size_t>(p) * K + k) * d;
#pragma omp simd
        for (int j = 0; j < d; ++j) slot[j] += c * static_cast<double>(row_features[j]);
      }
      coef_sum += c;
    }
    if (with_mean) slots.col(row) -= coef_sum * pass.mean_feature.col(row);
  }
}

}  // namespace goodhart
