// adam.h — Adam with bias correction (Kingma & Ba; b1 0.9, b2 0.999, eps 1e-8), minimizing: the update of every
// trained policy (policy_gradient, dpo) and of the W3 benchmark's training through the backend op.
// Contract: step(grad, theta) moves theta against grad; the t-th call uses bias corrections 1 - b^t.
#pragma once

#include <cmath>

#include <Eigen/Dense>

namespace goodhart {

struct Adam {
  double learning_rate;
  Eigen::VectorXd m, v;
  int t = 0;
  Adam(double lr, Eigen::Index n) : learning_rate(lr), m(Eigen::VectorXd::Zero(n)), v(Eigen::VectorXd::Zero(n)) {}
  void step(const Eigen::VectorXd& grad, Eigen::VectorXd& theta) {
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    ++t;
    m = b1 * m + (1.0 - b1) * grad;
    v = b2 * v + (1.0 - b2) * grad.cwiseProduct(grad);
    const double c1 = 1.0 - std::pow(b1, t), c2 = 1.0 - std::pow(b2, t);
    theta.array() -= learning_rate * (m.array() / c1) / ((v.array() / c2).sqrt() + eps);
  }
};

}  // namespace goodhart
