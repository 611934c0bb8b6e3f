// ops.h — the hot operations of every optimizer, one name per op, implemented once per backend.
// Contract: ops(Backend::cpu, ...) runs backend/cpu/*_cpu.cpp (Eigen + OpenMP, float with double sums);
// backend/ref/*_ref.cpp hold plain double loops with the same signatures: the oracle the fast paths are tested
// against. Algorithms in optimizers/ call only these dispatchers and never know which backend runs.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "models/mlp.h"

namespace goodhart {

enum class Backend { cpu, cuda };
Backend parse_backend(const std::string& name);  // "auto" | "cpu" | "cuda"; throws on cuda when not built
std::string backend_name(Backend b);

// out(i) = f(x.row(i)) for the first f.inputs() columns of x
void score_mlp(Backend b, const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out);
void score_mlp_ref(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out);
void score_mlp_cpu(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out);

// best-of-n moments of one prompt's pool sorted ascending by proxy:
// out(g, j) = sum_i weights(g, i) * values(i, j)   (weights: G x N rank weights; values: N x V columns)
void bon_moments(Backend b, const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_ref(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);
void bon_moments_cpu(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out);

// the exact KL-regularized optimum pi_beta(k|p) ∝ pi_ref(k|p) exp(proxy(p,k) / beta) for every prompt and beta.
// Inputs are P x K (row-major); `values` are extra P x K arrays whose expectations under pi_beta are wanted.
// Output per (prompt, beta): kl, entropy, ess (1 / sum pi^2) and E[values[j]], in TiltResult::at(p, b, column)
// with columns kl = 0, entropy = 1, ess = 2, values from 3. Stable for beta in [1e-6, 1e6]: log-sum-exp, no
// overflow, no NaN.
struct TiltInput {
  const RowMatrixXf* log_ref = nullptr;
  const RowMatrixXf* proxy = nullptr;
  std::vector<const RowMatrixXf*> values;
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

}  // namespace goodhart
