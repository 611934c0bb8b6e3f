// odin.h — a disentangled reward model in the spirit of ODIN (Chen et al. 2024): one network with two linear heads
// on its last hidden layer (on the inputs, for a linear proxy), a quality head q and a bias head l, fitted together
// to preferences whose labellers reward a bias feature b (length) as well as quality:
//   loss = BT(q + l) + l2/2 |W|^2 + correlation_weight (rho(q, b)^2 - rho(l, b)^2)
//          + orthogonality_weight (w_q . w_l)^2
// BT is the Bradley-Terry loss on the heads' sum; rho the Pearson correlation over the responses of the rows fitted
// (both sides of every pair); w_q, w_l the heads' weight columns. Only q is kept: the optimizer sees quality.
// ODIN penalizes |rho| and |w_q . w_l|; the squares have the same zeros and keep the objective smooth for L-BFGS.
// Contract: pure functions of their inputs; the gradient is exact (tested against finite differences).
#pragma once

#include <cstdint>

#include <Eigen/Dense>

#include "sim/numeric/mlp.h"
#include "sim/scenario/config.h"

namespace goodhart {

struct OdinWeights {
  double correlation = 1.0;    // of rho(q, b)^2 - rho(l, b)^2
  double orthogonality = 1.0;  // of (w_q . w_l)^2
};

// the two-head network: f (one output) with a second output column in its last layer, drawn N(0, 1/fan_in) from rng
Mlp add_bias_head(const Mlp& f, CounterRng& rng);

// the one-output network of a two-head network's head: 0 quality, 1 bias
Mlp odin_head(const Mlp& two_heads, int head);

// the loss above over the pairs (xa, xb, label) with the bias feature's values bias_a, bias_b of their responses,
// and its gradient with respect to pack_parameters(two_heads)
double odin_loss(const Mlp& two_heads, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
                 const Eigen::VectorXd& label, const Eigen::VectorXd& bias_a, const Eigen::VectorXd& bias_b,
                 double l2, const OdinWeights& weights, Eigen::VectorXd* gradient);

// fit the two-head network grown from f (initialized; its bias head drawn from rng) to the pairs by cfg.optimizer
// (batch order from seed) with cfg's odin weights, and return its quality head
Mlp fit_odin(const ProxyConfig& cfg, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
             const Eigen::VectorXd& label, const Eigen::VectorXd& bias_a, const Eigen::VectorXd& bias_b,
             std::uint64_t seed, const Mlp& f, CounterRng& rng);

}  // namespace goodhart
