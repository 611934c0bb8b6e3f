// bradley_terry.h — maximum-likelihood fitting of a reward model on preference pairs (Bradley-Terry):
// minimize mean_i softplus(m_i) - y_i m_i + (l2/2) |W|^2 with m_i = f(a_i) - f(b_i), by Adam or L-BFGS.
// Contract: deterministic for a given seed (initial weights and minibatch order from CounterRng); single-threaded
// Eigen, so the fit is the same at any thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Dense>

#include "sim/numeric/mlp.h"
#include "sim/scenario/config.h"

namespace goodhart {

// loss (mean over the rows given, plus the L2 term) and its gradient with respect to pack_parameters(f)
double bradley_terry_loss(const Mlp& f, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
                          const Eigen::VectorXd& label, double l2, Eigen::VectorXd* gradient);

// a loss over some rows of the pairs (nullptr: every row) and its gradient with respect to pack_parameters(f)
using PairLoss =
    std::function<double(const Mlp& f, const std::vector<Eigen::Index>* rows, Eigen::VectorXd* gradient)>;

// fit f (already initialized) in place to a loss over n pairs by cfg.optimizer: adam on minibatches of rows (a
// fresh permutation per epoch from seed), lbfgs on every row
void fit_pairs(const ProxyConfig& cfg, Eigen::Index n, const PairLoss& loss, std::uint64_t seed, Mlp& f);

// fit f (already initialized) in place to the Bradley-Terry loss
void fit_bradley_terry(const ProxyConfig& cfg, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
                       const Eigen::VectorXd& label, std::uint64_t seed, Mlp& f);

}  // namespace goodhart
