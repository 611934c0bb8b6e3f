// ops.h — the hot operations of every optimizer, one name per op, implemented once per backend.
// Contract: ops(Backend::cpu, ...) runs backend/cpu/*_cpu.cpp (Eigen + OpenMP, float with double sums);
// ops(Backend::cuda, ...) runs backend/cuda/*_cuda.cu (inputs copied in, kernels on the calling thread's stream,
// results copied out; float with double sums; in a build without CUDA, backend/cuda/cuda_absent.cpp throws);
// backend/ref/*_ref.cpp hold plain double loops with the same signatures: the oracle the fast paths are tested
// against. Algorithms in optimizers/ call only these dispatchers and never know which backend runs. This header
// never includes CUDA headers: CPU translation units see plain declarations only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "sim/numeric/mlp.h"

namespace goodhart {

enum class Backend { cpu, cuda };
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
// out_f = f(x) and out_g = g(x), as two score_mlp_cpu calls within float rounding, in one pass over x when both
// have one hidden layer of the same activation (their hidden layers as one product); the CPU bon_sweep's scorer
void score_mlp_pair_cpu(const Mlp& f, const Mlp& g, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out_f,
                        Eigen::Ref<Eigen::VectorXf> out_g);

// best-of-n moments of one prompt's pool sorted ascending by proxy:
// out(g, j) = sum_i weights(g, i) * values(i, j)   (weights: G x N rank weights; values: N x V columns)
void bon_moments(Backend b, const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_ref(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_cpu(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_cuda(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);

// best-of-n over freshly drawn gaussian pools, all steps in one call (BENCHMARKS.md's W1): for prompt first + p
// (p < count), N = weights.cols() responses, response i drawn as the gaussian world draws it (row
// (seed, stream, first + p, i) of sim/numeric/normal_draws.h: mean + scale * z in float), scored by gold and proxy,
// ranked by proxy ascending (ties by index); out (count x 2G): out(p, g) the best-of-n gold and out(p, G + g) the
// best-of-n proxy for rank weights row g (G x N, as bon_moments)
struct BonSweepInput {
  const Mlp* gold = nullptr;
  const Mlp* proxy = nullptr;
  const Eigen::VectorXd* mean = nullptr;   // length dim
  const Eigen::VectorXd* scale = nullptr;  // length dim
  const Eigen::MatrixXd* weights = nullptr;
  std::uint64_t seed = 0;
  std::uint32_t stream = 0;
  int first = 0, count = 0;
};
void bon_sweep(Backend b, const BonSweepInput& in, Eigen::MatrixXd& out);
void bon_sweep_cpu(const BonSweepInput& in, Eigen::MatrixXd& out);
void bon_sweep_cuda(const BonSweepInput& in, Eigen::MatrixXd& out);
// bon_sweep_cpu's ranking of one pool: values (N x 2) = gold and proxy in ascending proxy order, ties by index
void rank_by_proxy_cpu(const Eigen::VectorXf& gold, const Eigen::VectorXf& proxy, Eigen::MatrixXf& values);

// one RLOO policy-gradient step of the categorical log-linear policy pi(k|p) ∝ pi_ref(k|p) exp(theta . phi[p,k])
// (BENCHMARKS.md's W3; the engine's rloo with the k1 KL estimate in the reward, no whitening or clipping): per
// prompt, num_generations candidates drawn by inverse CDF on the uniforms of CounterRng(seed, policy_samples,
// step, p), reward proxy(p, k) - kl_coef (log pi(k|p) - log pi_ref(k|p)), advantage the reward minus the mean of
// the group's others; grad (length d) = the gradient of -mean(advantage * log pi) over all samples, summed in
// double. The reference computes in double throughout; the cpu op takes float products and exponentials (see
// pg_cpu.cpp), the cuda op double products
struct PgInput {
  const RowMatrixXf* features = nullptr;  // P*K x d, row p*K + k is phi[p,k]
  const RowMatrixXd* log_ref = nullptr;   // P x K, normalized
  const RowMatrixXf* proxy = nullptr;     // P x K
  int num_generations = 8;                // >= 2
  double kl_coef = 0.0;
  std::uint64_t seed = 0;
};
void pg_rloo_gradient(Backend b, const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad);
void pg_rloo_gradient_ref(const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad);
void pg_rloo_gradient_cpu(const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad);
void pg_rloo_gradient_cuda(const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad);

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

}  // namespace goodhart
