// ops.h — the hot operations of every optimizer, one name per op, implemented once per backend.
// Contract: ops(Backend::cpu, ...) runs backend/cpu/*_cpu.cpp (Eigen + OpenMP, float with double sums);
// ops(Backend::cuda, ...) runs backend/cuda/*_cuda.cu (inputs copied in, kernels on the calling thread's stream,
// results copied out; float with double sums; in a build without CUDA, backend/cuda/cuda_absent.cpp throws);
// backend/ref/*_ref.cpp hold plain double loops with the same signatures: the oracle the fast paths are tested
// against, which ops(Backend::ref, ...) runs (for tests that need the engine in double; not a user option). Algorithms in optimizers/ call only these dispatchers and never know which backend runs. This header
// never includes CUDA headers: CPU translation units see plain declarations only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "sim/numeric/fdiv_hd.h"
#include "sim/numeric/mlp.h"

namespace goodhart {

enum class Backend { cpu, cuda, ref };
// "cpu" | "cuda" | "auto" (cuda when cuda_device_available(), else cpu); "cuda" without a usable device, or in a
// build without CUDA, throws std::invalid_argument saying which
Backend parse_backend(const std::string& name);
std::string backend_name(Backend b);

// whether Backend::cuda can run here (built with CUDA, a driver, a device that runs this build's kernels); detail,
// when given, receives the device's name ("NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)") or the reason it cannot run
bool cuda_device_available(std::string* detail = nullptr);

// out(i) = f(x.row(i)) for the first f.inputs() columns of x
void score_mlp(Backend b, const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out);
void score_mlp_ref(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out);
void score_mlp_cpu(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out);
void score_mlp_cuda(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out);
// best-of-n moments of one prompt's pool sorted ascending by proxy:
// out(g, j) = sum_i weights(g, i) * values(i, j)   (weights: G x N rank weights; values: N x V columns)
void bon_moments(Backend b, const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_ref(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_cpu(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_cuda(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);

// the categorical policies' training numerics (models/policy.h's tabular and log_linear, run by policy_gradient):
// pi_theta(k|p) = softmax_k(log_ref(p, k) + offset(p, k)), offset = theta[p*K + k] (tabular) or theta . phi[p,k]
// (log_linear). The algorithms (advantages, clipping, KL terms) stay in optimizers/; these ops are the passes over
// the candidates. cpu: float feature products and exponentials, double logits and sums (agrees with
// Policy::log_probs to float rounding); ref: double throughout; cuda: double products, float features. A prompt
// whose offsets are all zero is pi_ref exactly (log pi = log_ref, no renormalization).
struct PolicyTable {
  const RowMatrixXf* features = nullptr;  // P*K x d, row p*K + k is phi[p,k] (read by log_linear only)
  const RowMatrixXd* log_ref = nullptr;   // P x K, normalized
  bool tabular = false;
  // the cuda backend's copy of features and log_ref, uploaded by the first cuda call and kept while any copy of
  // this table lives: a run's feature table crosses to the device once, not per step
  mutable std::shared_ptr<void> device;
  int prompts() const { return static_cast<int>(log_ref->rows()); }
  int candidates() const { return static_cast<int>(log_ref->cols()); }
  int dim() const { return static_cast<int>(features->cols()); }
  // the parameters prompt p's distribution reads: theta[block_first(p), + block_size())
  int block_size() const { return tabular ? candidates() : dim(); }
  int block_first(int p) const { return tabular ? p * candidates() : 0; }
  int parameters() const { return tabular ? prompts() * candidates() : dim(); }
};
using IndexMatrix = Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// A pass has one row per prompt (row p is prompt p), or with `prompts` given one row per entry (row r is prompt
// prompts[r]; a prompt may repeat): the rows' candidates, their log-probabilities and E_pi[feature].
struct PolicyPassRequest {
  int draws = 0;  // > 0: draw this many per row into out.chosen; 0: out.chosen is given (rows x G)
  std::uint64_t seed = 0;
  int step = 0;                // draws use the uniforms of CounterRng(seed, policy_samples, step, prompt)
  bool mean_feature = false;   // also fill out.mean_feature
  const std::vector<int>* prompts = nullptr;  // the rows' prompts; null: every prompt in order
};
struct PolicyPass {
  std::vector<int> prompts;       // the rows' prompts (filled by policy_pass)
  IndexMatrix chosen;             // rows x G candidates, drawn (numeric/cdf_walk.h's draw_candidates) or given
  RowMatrixXd log_prob;           // rows x G: log pi_theta(chosen(r, i) | prompt of row r)
  Eigen::MatrixXd mean_feature;   // block_size x rows: column r is E_pi[d logit(k|prompt) / d theta[block]]
};
void policy_pass(Backend b, const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r,
                 PolicyPass& out);
void policy_pass_ref(const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r, PolicyPass& out);
void policy_pass_cpu(const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r, PolicyPass& out);
void policy_pass_cuda(const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r, PolicyPass& out);

// the gradient of sum_i coef(r, i) log pi_theta(chosen(r, i) | prompt) per row of a pass, over columns
// [first, last): slots (block_size x rows) column r = sum_i coef(r, i) d logit(chosen(r, i)) / d theta[block]
// (e_k or phi[prompt,k], accumulated in i order in double), minus (sum_i coef(r, i)) pass.mean_feature.col(r)
// when with_mean (left out by a caller whose coefficients sum to zero); the caller adds column r at
// theta[block_first(pass.prompts[r])]
void policy_slots(Backend b, const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                  bool with_mean, Eigen::MatrixXd& slots);
void policy_slots_ref(const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                      bool with_mean, Eigen::MatrixXd& slots);
void policy_slots_cpu(const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                      bool with_mean, Eigen::MatrixXd& slots);
void policy_slots_cuda(const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                       bool with_mean, Eigen::MatrixXd& slots);

// the exact KL-regularized optimum pi_beta(k|p) ∝ pi_ref(k|p) exp(proxy(p,k) / beta) for every prompt and beta.
// Inputs are P x K (row-major) views — of Eigen matrices, or of memory owned elsewhere (a numpy array) without a
// copy; `values` are extra P x K arrays whose expectations under pi_beta are wanted.
// Output per (prompt, beta): kl, entropy, ess (1 / sum pi^2) and E[values[j]], in TiltResult::at(p, b, column)
// with columns kl = 0, entropy = 1, ess = 2, values from 3. Stable for beta in [1e-6, 1e6]: log-sum-exp, no
// overflow, no NaN.
struct FloatMatrixView : Eigen::Map<const RowMatrixXf> {
  FloatMatrixView(const RowMatrixXf* m) : Map(m->data(), m->rows(), m->cols()) {}  // NOLINT: implicit on purpose
  FloatMatrixView(const float* data, Eigen::Index rows, Eigen::Index cols) : Map(data, rows, cols) {}
};
struct TiltInput {
  FloatMatrixView log_ref;
  FloatMatrixView proxy;
  std::vector<FloatMatrixView> values;
};
struct TiltResult {
  int prompts = 0, betas = 0, columns = 0;
  std::vector<double> data;  // [(p * betas + b) * columns + column]
  double at(int p, int b, int c) const { return data[(static_cast<std::size_t>(p) * betas + b) * columns + c]; }
  double& at(int p, int b, int c) { return data[(static_cast<std::size_t>(p) * betas + b) * columns + c]; }
};
inline constexpr int tilt_kl = 0, tilt_entropy = 1, tilt_ess = 2, tilt_first_value = 3;

void tilt_sweep(Backend b, const TiltInput& in, std::span<const double> betas, TiltResult& out);
void tilt_sweep_ref(const TiltInput& in, std::span<const double> betas, TiltResult& out);
void tilt_sweep_cpu(const TiltInput& in, std::span<const double> betas, TiltResult& out);
void tilt_sweep_cuda(const TiltInput& in, std::span<const double> betas, TiltResult& out);

// the f-divergence-regularized optimum of max E_pi[proxy] - beta D_f(pi || pi_ref) for every prompt and beta
// (numeric/fdiv_hd.h has the divergences): pi(k|p) = pi_ref(k|p) w((proxy(p,k) - lambda) / beta), lambda the root of
// E_ref[w] = 1 found per (prompt, beta). Inputs and outputs as tilt_sweep (kl is KL(pi || pi_ref), whatever the
// divergence, so every optimum sits on the same gold-vs-KL axes); Divergence::kl is tilt_sweep on cpu and cuda (ref
// solves it by the same root find as the others: a cross-check of tilt_sweep_ref). ref:
// bisection on lambda to the last bit; cpu: safeguarded Newton in double, warm-started across betas, a prompt per
// OpenMP task; cuda: a block per (prompt, beta), Newton with fixed-order block sums. A prompt with an inf or NaN
// proxy at a possible candidate gets NaN outputs; beta in [1e-6, 1e6].
void fdiv_sweep(Backend b, Divergence d, const TiltInput& in, std::span<const double> betas, TiltResult& out);
void fdiv_sweep_ref(Divergence d, const TiltInput& in, std::span<const double> betas, TiltResult& out);
void fdiv_sweep_cpu(Divergence d, const TiltInput& in, std::span<const double> betas, TiltResult& out);
void fdiv_sweep_cuda(Divergence d, const TiltInput& in, std::span<const double> betas, TiltResult& out);
// that optimum's distribution over one prompt's K candidates at one beta, on the host (fdiv_sweep_cpu's solve),
// for what needs the distribution itself (sampled policy pairs); NaN everywhere for a non-finite proxy
std::vector<double> fdiv_policy_row(Divergence d, const float* log_ref, const float* proxy, int K, double beta);

}  // namespace goodhart
