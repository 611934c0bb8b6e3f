// odin.cpp — ODIN's two-head reward model: adding and splitting heads, the disentangling loss, its gradient, the fit.
// Contract: see odin.h.
#include "models/odin.h"

#include <cmath>

#include "models/bradley_terry.h"

namespace goodhart {

Mlp add_bias_head(const Mlp& f, CounterRng& rng) {
  Mlp two = f;
  Eigen::MatrixXd& w = two.weights.back();
  const double sd = 1.0 / std::sqrt(static_cast<double>(w.rows()));
  w.conservativeResize(Eigen::NoChange, 2);
  for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, 1) = sd * rng.normal();
  two.biases.back().conservativeResize(2);
  two.biases.back()(1) = 0.0;
  return two;
}

Mlp odin_head(const Mlp& two_heads, int head) {
  Mlp one = two_heads;
  one.weights.back() = two_heads.weights.back().col(head);
  one.biases.back() = two_heads.biases.back().segment(head, 1);
  return one;
}

namespace {

// rho(v, b)^2 over the entries and, with d, its derivative with respect to each v_i:
// rho = S_vb / sqrt(S_vv S_bb) over centered values; d rho / d v_i = b_i / sqrt(S_vv S_bb) - rho v_i / S_vv
// (centered). A constant v or b has no correlation: 0, and no gradient
double squared_correlation(const Eigen::VectorXd& v, const Eigen::VectorXd& b, Eigen::VectorXd* d) {
  const Eigen::VectorXd vc = v.array() - v.mean(), bc = b.array() - b.mean();
  const double svv = vc.squaredNorm(), sbb = bc.squaredNorm();
  if (d) d->setZero(v.size());
  if (!(svv > 1e-300 && sbb > 1e-300)) return 0.0;
  const double root = std::sqrt(svv * sbb), rho = vc.dot(bc) / root;
  if (d) *d = 2.0 * rho * (bc / root - (rho / svv) * vc);
  return rho * rho;
}

}  // namespace

double odin_loss(const Mlp& two_heads, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
                 const Eigen::VectorXd& label, const Eigen::VectorXd& bias_a, const Eigen::VectorXd& bias_b,
                 double l2, const OdinWeights& weights, Eigen::VectorXd* gradient) {
  const auto outs_a = mlp_forward(two_heads, xa), outs_b = mlp_forward(two_heads, xb);
  const Eigen::Index n = label.size();
  const Eigen::MatrixXd& ya = outs_a.back();
  const Eigen::MatrixXd& yb = outs_b.back();
  // Bradley-Terry on the sum of the heads: softplus(m) - y m, stable for large |m|
  const Eigen::ArrayXd margin = (ya.rowwise().sum() - yb.rowwise().sum()).array();
  const Eigen::ArrayXd softplus = margin.max(0.0) + (-margin.abs()).exp().log1p();
  double loss = (softplus - label.array() * margin).sum() / static_cast<double>(n);
  for (const auto& w : two_heads.weights) loss += 0.5 * l2 * w.squaredNorm();
  // the heads' correlations with the bias over every response of the rows (a's, then b's)
  Eigen::VectorXd q(2 * n), l(2 * n), b(2 * n), dq, dl;
  q << ya.col(0), yb.col(0);
  l << ya.col(1), yb.col(1);
  b << bias_a, bias_b;
  const bool grad = gradient != nullptr;
  loss += weights.correlation *
          (squared_correlation(q, b, grad ? &dq : nullptr) - squared_correlation(l, b, grad ? &dl : nullptr));
  const Eigen::MatrixXd& head_weights = two_heads.weights.back();
  const double overlap = head_weights.col(0).dot(head_weights.col(1));
  loss += weights.orthogonality * overlap * overlap;
  if (!grad) return loss;

  gradient->setZero(parameter_count(two_heads));
  const Eigen::VectorXd g = (1.0 / (1.0 + (-margin).exp()) - label.array()) / static_cast<double>(n);
  Eigen::MatrixXd delta_a(n, 2), delta_b(n, 2);
  delta_a.col(0) = g + weights.correlation * dq.head(n);
  delta_a.col(1) = g - weights.correlation * dl.head(n);
  delta_b.col(0) = -g + weights.correlation * dq.tail(n);
  delta_b.col(1) = -g - weights.correlation * dl.tail(n);
  mlp_backward(two_heads, outs_a, delta_a, *gradient);
  mlp_backward(two_heads, outs_b, delta_b, *gradient);
  // l2 on weights and the orthogonality term on the last layer's columns (packed last: W column-major, then b)
  Mlp decay = two_heads;
  for (auto& bias : decay.biases) bias.setZero();
  *gradient += l2 * pack_parameters(decay);
  const Eigen::Index rows = head_weights.rows(), last = gradient->size() - 2 - 2 * rows;
  gradient->segment(last, rows) += 2.0 * weights.orthogonality * overlap * head_weights.col(1);
  gradient->segment(last + rows, rows) += 2.0 * weights.orthogonality * overlap * head_weights.col(0);
  return loss;
}

Mlp fit_odin(const ProxyConfig& cfg, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
             const Eigen::VectorXd& label, const Eigen::VectorXd& bias_a, const Eigen::VectorXd& bias_b,
             std::uint64_t seed, const Mlp& f, CounterRng& rng) {
  Mlp two = add_bias_head(f, rng);
  const OdinWeights weights{cfg.odin_correlation_weight, cfg.odin_orthogonality_weight};
  fit_pairs(cfg, label.size(), [&](const Mlp& g, const std::vector<Eigen::Index>* rows, Eigen::VectorXd* grad) {
    if (!rows) return odin_loss(g, xa, xb, label, bias_a, bias_b, cfg.l2, weights, grad);
    return odin_loss(g, xa(*rows, Eigen::all), xb(*rows, Eigen::all), label(*rows), bias_a(*rows), bias_b(*rows),
                     cfg.l2, weights, grad);
  }, seed, two);
  return odin_head(two, 0);
}

}  // namespace goodhart
