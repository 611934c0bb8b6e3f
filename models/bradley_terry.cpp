// bradley_terry.cpp — the Bradley-Terry loss and gradient; fitting a loss over pairs by Adam or L-BFGS (LBFGS++).
// Contract: see bradley_terry.h.
#include "models/bradley_terry.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <LBFGS.h>

#include "sim/numeric/philox_hd.h"

namespace goodhart {

double bradley_terry_loss(const Mlp& f, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
                          const Eigen::VectorXd& label, double l2, Eigen::VectorXd* gradient) {
  const auto outs_a = mlp_forward(f, xa), outs_b = mlp_forward(f, xb);
  const Eigen::ArrayXd margin = (outs_a.back() - outs_b.back()).col(0).array();
  const double n = static_cast<double>(label.size());
  // softplus(m) - y m, stable for large |m|
  const Eigen::ArrayXd softplus = margin.max(0.0) + (-margin.abs()).exp().log1p();
  double loss = (softplus - label.array() * margin).sum() / n;
  for (const auto& w : f.weights) loss += 0.5 * l2 * w.squaredNorm();
  if (!gradient) return loss;
  gradient->setZero(parameter_count(f));
  const Eigen::ArrayXd sigma = 1.0 / (1.0 + (-margin).exp());
  const Eigen::MatrixXd g = ((sigma - label.array()) / n).matrix();
  mlp_backward(f, outs_a, g, *gradient);
  mlp_backward(f, outs_b, -g, *gradient);
  // l2 on weights only
  Mlp decay = f;
  for (auto& b : decay.biases) b.setZero();
  *gradient += l2 * pack_parameters(decay);
  return loss;
}

namespace {

void fit_adam(const ProxyConfig& cfg, Eigen::Index n, const PairLoss& pair_loss, std::uint64_t seed, Mlp& f) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Eigen::VectorXd theta = pack_parameters(f), m = Eigen::VectorXd::Zero(theta.size()), v = m, grad;
  const Eigen::Index batch = std::min<Eigen::Index>(cfg.batch_size, n);
  std::vector<Eigen::Index> order(n);
  long step = 0;
  for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
    // a fresh permutation per epoch (Fisher-Yates on counter-based uniforms)
    std::iota(order.begin(), order.end(), 0);
    CounterRng rng(seed, Stream::proxy_batches, static_cast<std::uint32_t>(epoch));
    for (Eigen::Index i = n - 1; i > 0; --i)
      std::swap(order[i], order[static_cast<Eigen::Index>(rng.uniform() * (i + 1))]);
    for (Eigen::Index start = 0; start < n; start += batch) {
      const Eigen::Index rows = std::min(batch, n - start);
      const std::vector<Eigen::Index> idx(order.begin() + start, order.begin() + start + rows);
      pair_loss(f, &idx, &grad);
      ++step;
      m = b1 * m + (1 - b1) * grad;
      v = b2 * v + (1 - b2) * grad.cwiseProduct(grad);
      const double correction = std::sqrt(1 - std::pow(b2, step)) / (1 - std::pow(b1, step));
      theta -= (cfg.learning_rate * correction) * (m.array() / (v.array().sqrt() + eps)).matrix();
      unpack_parameters(theta, f);
    }
  }
}

// L-BFGS on the full batch, at most 10 * epochs iterations a pass. Every point the solver evaluates has a real
// loss, and the best one seen is kept: when the line search gives up (LBFGS++ throws on a step that became too
// small or a direction that no longer descends, as a ReLU kink or a stale curvature pair can cause), the fit
// starts again from the best point with an empty curvature memory, at most twice, and only while a pass improves;
// a pass that ends normally gives the solver's own final point, and a failure before any step down is an error
void fit_lbfgs(const ProxyConfig& cfg, const PairLoss& pair_loss, Mlp& f) {
  LBFGSpp::LBFGSParam<double> param;
  param.max_iterations = 10 * cfg.epochs;
  param.epsilon = 1e-8;
  Mlp work = f;
  Eigen::VectorXd best = pack_parameters(f);
  double best_loss = std::numeric_limits<double>::infinity();
  auto objective = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    unpack_parameters(theta, work);
    const double loss = pair_loss(work, nullptr, &grad);
    if (loss < best_loss) {  // a NaN loss is never the best
      best_loss = loss;
      best = theta;
    }
    return loss;
  };
  Eigen::VectorXd start_grad;
  const double start_loss = objective(best, start_grad);
  constexpr int passes = 3;
  for (int pass = 0; pass < passes; ++pass) {
    const double before = best_loss;
    LBFGSpp::LBFGSSolver<double> solver(param);
    Eigen::VectorXd theta = best;
    double loss = 0.0;
    try {
      solver.minimize(objective, theta, loss);
      unpack_parameters(theta, f);  // converged, or used its iterations: the solver's point
      return;
    } catch (const std::exception&) {  // LBFGS++ throws std::logic_error and std::runtime_error
      if (!(best_loss < start_loss)) throw;  // not one step down from the start: there is no fit to keep
    }
    if (!(best_loss < before)) break;  // this pass found nothing better: the best point stands
  }
  unpack_parameters(best, f);
}

}  // namespace

void fit_pairs(const ProxyConfig& cfg, Eigen::Index n, const PairLoss& loss, std::uint64_t seed, Mlp& f) {
  if (cfg.optimizer == "lbfgs")
    fit_lbfgs(cfg, loss, f);
  else
    fit_adam(cfg, n, loss, seed, f);
}

void fit_bradley_terry(const ProxyConfig& cfg, const Eigen::MatrixXd& xa, const Eigen::MatrixXd& xb,
                       const Eigen::VectorXd& label, std::uint64_t seed, Mlp& f) {
  fit_pairs(cfg, label.size(), [&](const Mlp& g, const std::vector<Eigen::Index>* rows, Eigen::VectorXd* grad) {
    if (!rows) return bradley_terry_loss(g, xa, xb, label, cfg.l2, grad);
    return bradley_terry_loss(g, xa(*rows, Eigen::all), xb(*rows, Eigen::all), label(*rows), cfg.l2, grad);
  }, seed, f);
}

}  // namespace goodhart
